"""Use cases of the store, one function per use case.

Every service takes the command's UnitOfWork and primitives (or a pydantic
command model), reads through the unit of work, decides in memory, stages
rows and returns a JSON-able dict. It never commits and never does I/O: the
serial writer commits the batch. A broken rule raises a DomainError before
anything is staged that should not be.
"""
