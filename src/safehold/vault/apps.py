from django.apps import AppConfig


class VaultConfig(AppConfig):
    name = "safehold.vault"
    label = "vault"
    verbose_name = "Vault"

    def ready(self) -> None:
        from django.core.signals import request_finished, request_started

        from safehold.vault import keys

        # Unwrapped data keys live for one request at most, so a shredded key is
        # gone everywhere from the next request on.
        request_started.connect(keys.forget_cached_keys, dispatch_uid="safehold.vault.start")
        request_finished.connect(keys.forget_cached_keys, dispatch_uid="safehold.vault.finish")
