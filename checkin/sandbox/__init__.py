"""A local BHXH gateway simulator (formats.md §6) for tests, demos and training.

``Sandbox`` serves the token and card-check endpoints over real HTTP; ``load_population``
reads the synthetic registry (``fixtures/population.json``) it answers from.
"""

from checkin.sandbox.faults import MODES as FAULT_MODES
from checkin.sandbox.faults import Faults
from checkin.sandbox.population import (
    DEFAULT_PATH,
    Person,
    Population,
    PopulationError,
    load_population,
)
from checkin.sandbox.server import Sandbox

__all__ = [
    "DEFAULT_PATH",
    "FAULT_MODES",
    "Faults",
    "Person",
    "Population",
    "PopulationError",
    "Sandbox",
    "load_population",
]
