"""In-memory adapters behind the application's ports: fast tests, no database, no disk."""

from casemgmt.adapters.memory.cases import (
    MemoryCaseUnitOfWork,
    MemoryIdempotencyStore,
    MemorySnapshots,
)
from casemgmt.adapters.memory.database import Delivery, MemoryDatabase
from casemgmt.adapters.memory.queries import MemoryCaseQueries
from casemgmt.adapters.memory.reminders import MemoryDeliveryStore, MemoryOverdueSource
from casemgmt.adapters.memory.store import MemoryEventStore, MemoryReader, MemoryUnitOfWork
from casemgmt.adapters.memory.users import MemoryUserRepository

__all__ = [
    "Delivery",
    "MemoryCaseQueries",
    "MemoryCaseUnitOfWork",
    "MemoryDatabase",
    "MemoryDeliveryStore",
    "MemoryEventStore",
    "MemoryIdempotencyStore",
    "MemoryOverdueSource",
    "MemoryReader",
    "MemorySnapshots",
    "MemoryUnitOfWork",
    "MemoryUserRepository",
]
