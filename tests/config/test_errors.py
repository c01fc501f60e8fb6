import pytest
from django.test import Client


@pytest.mark.django_db
class TestErrorAnswers:
    def test_a_missing_api_route_answers_json_404(self, client: Client):
        response = client.get("/api/anything-missing")
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert response.json() == {"detail": "Не найдено."}

    def test_a_missing_page_answers_html_404(self, client: Client):
        response = client.get("/anything-missing")
        assert response.status_code == 404
        assert response["Content-Type"].startswith("text/html")
        assert "Страница не найдена" in response.content.decode()

    def test_a_wrong_method_on_an_api_route_answers_json_405(self, client: Client):
        response = client.post("/api/schema/")
        assert response.status_code == 405
        assert response["Content-Type"] == "application/json"
        assert "detail" in response.json()

    def test_a_csrf_failure_on_an_api_route_answers_json_403(self, alice, settings):
        settings.ROOT_URLCONF = "tests.config.broken_urls"
        csrf_client = Client(enforce_csrf_checks=True)
        csrf_client.force_login(alice)
        response = csrf_client.post("/api/echo", data={})
        assert response.status_code == 403
        assert response["Content-Type"] == "application/json"
        assert "CSRF" in response.json()["detail"]

    def test_an_unhandled_exception_under_api_answers_json_500_and_is_logged(self, settings, caplog):
        settings.ROOT_URLCONF = "tests.config.broken_urls"
        response = Client(raise_request_exception=False).get("/api/boom")
        assert response.status_code == 500
        assert response.json() == {"detail": "Внутренняя ошибка сервера."}
        assert any(record.levelname == "ERROR" for record in caplog.records)

    def test_an_unhandled_exception_on_a_page_answers_html_500(self, settings):
        settings.ROOT_URLCONF = "tests.config.broken_urls"
        response = Client(raise_request_exception=False).get("/boom")
        assert response.status_code == 500
        assert "Что-то пошло не так" in response.content.decode()


@pytest.mark.django_db
def test_the_landing_page_invites_a_signed_out_visitor_to_sign_in(client: Client):
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'lang="ru"' in body
    assert "/accounts/login/" in body
    assert "Content-Security-Policy" in response.headers
    csp = response["Content-Security-Policy"]
    assert "script-src 'self' https://yookassa.ru" in csp
    assert "unsafe-eval" not in csp and "unsafe-inline" not in csp


@pytest.mark.django_db
def test_the_openapi_schema_is_served(client: Client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")
