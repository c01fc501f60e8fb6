from django import template

from accounts.devices import Device, device_of

register = template.Library()


@register.filter
def device(user_agent: str) -> Device:
    """`{% with d=session.user_agent|device %}{{ d.label }}{% endwith %}`: «Chrome, Linux»."""
    return device_of(user_agent or "")
