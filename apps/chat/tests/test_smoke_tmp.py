from apps.chat.tests.conftest import bearer, completion_body
from apps.chat.tests.factories import make_provider


def test_non_stream(live, upstream, tenant):
    make_provider(tenant.company, upstream.url)
    answer = live.post("/api/chat/completions", completion_body("acme.gpt-test"), bearer(tenant.user))
    print(answer.status, answer.headers, answer.body)
    assert answer.status == 200


def test_stream(live, upstream, tenant):
    make_provider(tenant.company, upstream.url)
    answer = live.post("/api/chat/completions", completion_body("acme.gpt-test", stream=True), bearer(tenant.user))
    print(answer.status, answer.headers, answer.body)
    assert answer.status == 200
