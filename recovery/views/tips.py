"""The clinic's tip sheet, as patients read it."""

from django.http import Http404
from django.shortcuts import render

from recovery.models import Disclaimer, Tip
from recovery.views.access import patient_required


@patient_required
def tip_list(request):
    tips = Tip.published_tips()
    context = {
        "recovery_tips": [tip for tip in tips if tip.kind == Tip.Kind.RECOVERY],
        "prevention_tips": [tip for tip in tips if tip.kind == Tip.Kind.PREVENTION],
        "disclaimer": Disclaimer.current(),
    }
    return render(request, "recovery/tip_list.html", context)


@patient_required
def tip_detail(request, slug):
    tip = next((tip for tip in Tip.published_tips() if tip.slug == slug), None)
    if tip is None:
        raise Http404("No published tip has that address.")
    return render(request, "recovery/tip_detail.html", {"tip": tip, "disclaimer": Disclaimer.current()})
