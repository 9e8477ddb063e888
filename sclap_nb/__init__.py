"""sclap_nb: spatial-temporal CLAP on first-order ambisonics.

Modules, in the direction dependencies flow:
data -> features -> model -> losses -> metrics -> train; viz sits at the edge.
"""

__version__ = "0.1.0"
