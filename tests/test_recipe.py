"""Recipes: typed parsing, overrides, clear errors, and every shipped recipe parses against its configs."""
import pytest
import yaml

from multigan.recipe import (
    RecipeError, apply_overrides, changed_values, dump_yaml, from_dict, list_recipes, load_recipe, non_defaults,
)


def minimal(**sections):
    raw = {"model": {"name": "dcgan"}, "data": {"name": "digits"}}
    for key, value in sections.items():
        raw.setdefault(key, {}).update(value)
    return raw


def test_typed_values_and_defaults():
    config = from_dict(minimal(model={"betas": [0.0, 0.99], "lr_g": "1e-4"}, train={"stages": [{"name": "adversarial", "steps": 5}]}))
    assert config.model.betas == (0.0, 0.99) and config.model.lr_g == 1e-4  # YAML 1.1 reads 1e-4 as a string
    assert config.train.stage_list()[0].steps == 5 and config.train.batch_size == 64
    assert non_defaults(config) == {"model.lr_g": 1e-4, "model.betas": (0.0, 0.99), "train.stages": config.train.stages}
    assert changed_values(config) == {"model": {"lr_g": 1e-4, "betas": (0.0, 0.99)}, "data": {},
                                      "train": {"stages": config.train.stages}, "eval": {}}  # the bench's digests


def test_overrides_parse_yaml_values_and_create_sections():
    raw = minimal()
    apply_overrides(raw, ["train.steps=200", "model.conditional=true", "eval.metrics=[fid, kid]"])
    config = from_dict(raw)
    assert config.train.steps == 200 and config.model.conditional is True and config.eval.metrics == ["fid", "kid"]


@pytest.mark.parametrize(
    "raw,message",
    [
        (minimal(model={"ngff": 1}), "unknown key 'ngff' in section 'model (dcgan)'"),
        (minimal(train={"stepz": 1}), "unknown key 'stepz' in section 'train'; did you mean 'steps'?"),
        ({**minimal(), "trian": {}}, "unknown section 'trian'; did you mean 'train'?"),
        (minimal(train={"steps": 1.5}), "train.steps must be an integer, got 1.5"),
        (minimal(train={"ema": "fast"}), "train.ema must be a number, got 'fast'"),
        (minimal(model={"conditional": "yes please"}), "model.conditional must be true or false"),
        (minimal(model={"betas": [0.5]}), "model.betas must be a list of 2 values"),
        (minimal(train={"stages": [{"name": "adversarial", "stepz": 3}]}), "unknown key 'stepz' in section 'train.stages[0]'"),
        ({"model": {"name": "dcgn"}, "data": {"name": "digits"}}, "model.name: unknown model 'dcgn'; did you mean 'dcgan'?"),
        ({"data": {"name": "digits"}}, "model.name is missing; valid:"),
        (minimal(model={"ngf": 8, "generator_width": 8}), "given twice"),
    ],
)
def test_errors_name_the_key_and_what_was_expected(raw, message):
    with pytest.raises(RecipeError) as err:
        from_dict(raw, source="r.yaml")
    assert message in str(err.value) and str(err.value).startswith("r.yaml: ")
    assert "\n" not in str(err.value)


def test_bad_override_syntax():
    with pytest.raises(RecipeError, match="expected SECTION.KEY=VALUE"):
        apply_overrides({}, ["steps200"])


def test_a_bad_override_names_the_set_it_came_from():
    with pytest.raises(RecipeError, match=r"dcgan_digits.yaml with --set train.stepz=4: unknown key 'stepz'"):
        load_recipe("dcgan_digits", ["train.stepz=4"])


def test_resolved_config_round_trips_through_yaml():
    config = load_recipe("dcgan_fashion_cond", ["train.steps=7"])
    again = from_dict(yaml.safe_load(dump_yaml(config)))
    assert again.to_dict() == config.to_dict() and again.out.name == "dcgan_fashion_cond"


@pytest.mark.parametrize("path", list_recipes(), ids=lambda p: p.stem)
def test_every_shipped_recipe_parses_and_has_a_header(path):
    config = load_recipe(path)
    assert config.out.name == path.stem
    assert path.read_text().startswith("# "), "a recipe starts with a header comment saying what it trains"
