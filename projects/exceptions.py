"""The catalogue's errors; their messages are safe to show to the user."""


class ProjectError(Exception):
    def __init__(self, message, *, missing: dict | None = None):
        super().__init__(message)
        self.message = message
        self.missing = missing or {}

    def __str__(self) -> str:
        return str(self.message)


class ProjectPermissionDenied(ProjectError):
    pass


class ProjectStateError(ProjectError):
    pass
