"""Sessions kept in the database as Django keeps them, read with a prepared
statement (portal/prepared.py): every signed-in request loads its session
before anything else, and the ORM took longer to write that one query than
the database took to answer it. Set as SESSION_ENGINE."""

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from portal.prepared import Prepared

_SESSION_WITH_KEY = Prepared(lambda key: Session.objects.filter(session_key=key), str)


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        # The key is the primary key: at most one row. Its expiry is checked
        # here rather than in the SQL, so the statement takes the key alone.
        found = _SESSION_WITH_KEY(self.session_key) if self.session_key else []
        if found and found[0].expire_date > timezone.now():
            return found[0]
        self._session_key = None
        return None
