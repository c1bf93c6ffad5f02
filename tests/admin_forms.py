"""Read an HTML form the way a browser submits it, so admin tests post exactly what a person would.

Admin change pages carry hidden fields, inline management forms and select widgets whose values are easy to get
wrong by hand; taking them from the page itself keeps the tests honest about what the page offers.
"""

from html.parser import HTMLParser


class _FormReader(HTMLParser):
    def __init__(self, form_id):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.fields = []  # (name, value) pairs in page order, as a browser sends them
        self._select = None  # name of the <select> being read, with its options
        self._options = []
        self._textarea = None
        self._text = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            if self.form_id is None or attrs.get("id") == self.form_id:
                self.inside = True
            return
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name and "disabled" not in attrs:
            kind = attrs.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.fields.append((name, attrs.get("value", "on")))
                return
            self.fields.append((name, attrs.get("value", "")))
        elif tag == "select" and name and "disabled" not in attrs:
            self._select = (name, "multiple" in attrs)
            self._options = []
        elif tag == "option" and self._select:
            self._options.append((attrs.get("value"), "selected" in attrs))
        elif tag == "textarea" and name and "disabled" not in attrs:
            self._textarea = name
            self._text = []

    def handle_data(self, data):
        if self._textarea:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "select" and self._select:
            name, multiple = self._select
            chosen = [value for value, selected in self._options if selected]
            if not chosen and not multiple and self._options:
                chosen = [self._options[0][0]]
            self.fields.extend((name, value or "") for value in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea:
            text = "".join(self._text)
            # Browsers drop the newline that Django puts right after <textarea>.
            self.fields.append((self._textarea, text.removeprefix("\r\n").removeprefix("\n")))
            self._textarea = None


def form_data(response, form_id=None):
    """The fields of the page's form ``form_id`` (default: the admin's ``<model>_form``) as a dict for client.post.

    Names that appear more than once (multiple selects) map to a list of values.
    """
    html = response.content.decode()
    if form_id is None:
        form_id = f"{response.context['opts'].model_name}_form"
    reader = _FormReader(form_id)
    reader.feed(html)
    assert reader.fields, f"no form #{form_id} on the page"
    data = {}
    for name, value in reader.fields:
        if name in data:
            existing = data[name]
            data[name] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            data[name] = value
    return data


def inline_prefix(data, formset, pk):
    """The prefix (``"steps-3"``) of the inline form of ``formset`` that edits the row ``pk`` in ``form_data``: found
    by the row's id, which every row sends (a field fixed once the row exists, such as a step's key, is not sent)."""
    for name, value in data.items():
        if name.startswith(f"{formset}-") and name.endswith("-id") and value == str(pk):
            return name.removesuffix("-id")
    raise AssertionError(f"no inline form of {formset!r} for the row {pk}")
