"""``python -m sclap_nb.train``: the command line of the main job (:func:`sclap_nb.run.main`).

Every setting of :class:`sclap_nb.config.RunConfig` is a flag (``--optim.epochs 30``); ``--preset``
starts from ``default``, ``specification`` or ``quick``; ``--print_config`` prints the whole tree as
YAML and ``--config FILE`` reads such a file back. Where ``make setup`` installed tcmalloc
(:mod:`sclap_nb.allocator`), the command starts itself again with it preloaded (``SCLAP_ALLOCATOR=system``:
not). The training code itself is :mod:`sclap_nb.training`.
"""

import sys

from .allocator import reexec

if __name__ == "__main__":
    reexec("sclap_nb.train")  # with tcmalloc preloaded where it is installed (sclap_nb.allocator), before torch

from .run import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
