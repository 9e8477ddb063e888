"""``python -m sclap_nb.train``: the command line of the main job (:func:`sclap_nb.run.main`).

Every setting of :class:`sclap_nb.config.RunConfig` is a flag (``--optim.epochs 30``); ``--preset``
starts from ``default``, ``specification`` or ``quick``; ``--print_config`` prints the whole tree as
YAML and ``--config FILE`` reads such a file back. The training code itself is :mod:`sclap_nb.training`.
"""

import sys

from .run import main

if __name__ == "__main__":
    sys.exit(main())
