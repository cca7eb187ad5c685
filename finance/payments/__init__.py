"""Payment providers, looked up by name."""

from .base import PaymentError, PaymentNotCancellable, PaymentProvider

_providers: dict[str, PaymentProvider] = {}
_builtins_loaded = False


def register_provider(provider: PaymentProvider) -> PaymentProvider:
    _providers[provider.name] = provider
    return provider


def provider_for(name: str) -> PaymentProvider:
    global _builtins_loaded
    if not _builtins_loaded:
        _builtins_loaded = True
        from . import bank_transfer, stripe_provider  # noqa: F401  (they register themselves)
    try:
        return _providers[name]
    except KeyError:
        raise PaymentError(f"unknown payment provider {name!r}") from None


__all__ = [
    "PaymentError",
    "PaymentNotCancellable",
    "PaymentProvider",
    "provider_for",
    "register_provider",
]
