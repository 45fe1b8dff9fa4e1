import pytest

from sarapay.emails import normalize_email
from sarapay.errors import BadInput


@pytest.mark.parametrize(
    "text, expected",
    [("jean.dupont@example.fr", "jean.dupont@example.fr"), ("  Jean@Example.FR\u00a0", "Jean@example.fr"), ("a+b@x.y.fr", "a+b@x.y.fr")],
)
def test_accepted(text, expected):
    assert normalize_email(text) == expected


@pytest.mark.parametrize("text", ["", "jean", "jean@", "@example.fr", "jean@example", "je an@example.fr", "a@@b.fr", "a@b..fr", "a@b.fr.", "a@b.fr\x1b", "a" * 250 + "@b.fr"])
def test_refused(text):
    with pytest.raises(BadInput) as info:
        normalize_email(text)
    assert info.value.key == "email.invalid"
