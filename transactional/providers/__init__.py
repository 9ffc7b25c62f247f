"""Adapters to outside providers (payments today).

Services call a provider only outside the serial writer: the attempt is
committed as pending first and the outcome is committed by a second command.
Nothing here touches storage; the sandbox makes no network call at all.
"""
