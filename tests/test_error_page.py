"""The error page says what happened in a sentence (UX audit D17, D20: "400 · Permintaan tidak dapat diproses",
a bare number for a heading)."""

import re


def test_the_error_page_is_headed_by_a_sentence(client, login, make_user, db):
    login(make_user("telecollector"))
    for path, status in (("/participants/0000000009999", 404), ("/admin/users", 403)):
        page = client.get(path)
        assert page.status_code == status
        heading = re.search(r"<h1>(.*?)</h1>", page.text, re.S).group(1).strip()
        title = re.search(r"<title>(.*?)</title>", page.text, re.S).group(1).strip()
        assert not heading.isdigit() and len(heading.split()) >= 2, heading
        assert not title.split(" · ")[0].isdigit(), title
        assert str(status) in page.text  # still there, small, for the helpdesk
