import pytest

from multigan.registry import MODELS, Registry, RegistryError


def test_unknown_name_lists_valid_names_and_closest_match():
    with pytest.raises(RegistryError) as err:
        MODELS.get("dcgn")
    message = str(err.value)
    assert "unknown model 'dcgn'" in message and "did you mean 'dcgan'" in message and "template" in message


def test_duplicate_registration_fails_loudly():
    registry = Registry("thing")
    registry.register("a")(object())
    with pytest.raises(RegistryError, match="registered twice"):
        registry.register("a")(object())


def test_builtin_plugins_register_themselves():
    assert {"dcgan", "template"} <= set(MODELS.names())
