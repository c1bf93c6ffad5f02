def test_login_page_renders(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
