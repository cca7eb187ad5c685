"""The signed-in person's notifications: what notify() told them, newest
first, and the count of unread ones the header shows."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .models import Notification
from .notifications import mark_read, unread_recount

PER_PAGE = 25


@login_required
def notification_list(request):
    # The count in the header is kept by notify(); the list is where it is set
    # right again, should it ever have drifted.
    unread_recount(request.user)
    notifications = Notification.objects.filter(recipient=request.user).only(
        "message", "url", "created_at", "read_at"
    )
    page = Paginator(notifications, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "portal/notifications.html", {"page_obj": page})


@login_required
def notification_open(request, pk: int):
    """Mark the notification read and go where it points (a page of this site)."""
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    mark_read(request.user, notification)
    going_to = notification.url
    if going_to and url_has_allowed_host_and_scheme(
        going_to, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(going_to)
    return redirect("portal:notifications")


@login_required
@require_POST
def notifications_mark_read(request):
    mark_read(request.user)
    return redirect("portal:notifications")
