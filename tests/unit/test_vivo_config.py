"""Settings: environment reading, key hiding, credential overrides."""

from __future__ import annotations

import pickle

import pytest

from vivo import VivoClient, VivoNotConfigured, VivoSettings
from vivo.config import Credentials

pytestmark = pytest.mark.unit

KEY = "sup3r-s3cret-key"


def test_repr_never_shows_the_key():
    settings = VivoSettings(app_id="app", app_key=KEY)
    for text in (repr(settings), str(settings), repr(VivoClient(settings)), repr(settings.credentials())):
        assert KEY not in text
    assert "app_id='app'" in repr(settings)


def test_settings_pickle_for_ray():
    settings = VivoSettings(app_id="app", app_key=KEY, max_retries=0)
    assert pickle.loads(pickle.dumps(settings)) == settings


def test_from_env_reads_old_names_and_env_wins(monkeypatch):
    monkeypatch.setenv("APPID", "env-app")
    monkeypatch.setenv("APPKEY", KEY)
    monkeypatch.setenv("VIVO_BASE_URL", "http://127.0.0.1:9/")
    settings = VivoSettings.from_env(
        app_id="yaml-app", app_key="yaml-key", base_url="https://yaml.example", timeout_s=3
    )
    assert (settings.app_id, settings.app_key) == ("env-app", KEY)
    assert settings.base_url == "http://127.0.0.1:9"
    assert settings.ws_base_url == "ws://127.0.0.1:9"
    assert settings.timeout_s == 3


def test_from_env_without_credentials_is_not_configured(monkeypatch):
    for var in ("APPID", "APPKEY", "VIVO_BASE_URL", "VIVO_AUTH"):
        monkeypatch.delenv(var, raising=False)
    settings = VivoSettings.from_env(base_url=None, auth="bearer")
    assert settings.base_url == "https://api-ai.vivo.com.cn" and settings.auth == "bearer"
    assert not settings.configured
    with pytest.raises(VivoNotConfigured) as info:
        settings.credentials()
    assert "APPID" in str(info.value) and "APPKEY" in str(info.value)


def test_per_call_override_wins_only_when_complete():
    settings = VivoSettings(app_id="app", app_key=KEY)
    assert settings.credentials(("other", "other-key")) == Credentials("other", "other-key")
    assert settings.credentials(("other", "")) == Credentials("app", KEY)
    assert VivoSettings().credentials(("a", "b")).app_id == "a"


def test_https_maps_to_wss():
    assert VivoSettings().ws_base_url == "wss://api-ai.vivo.com.cn"


@pytest.mark.parametrize(
    "bad", [{"auth": "basic"}, {"base_url": "ftp://x"}, {"timeout_s": 0}, {"max_retries": -1}]
)
def test_invalid_settings_are_rejected(bad):
    with pytest.raises(ValueError):
        VivoSettings(**bad)
