import pytest

from pipeline.params import Params, ParamsError, load_params


def write(tmp_path, text):
    p = tmp_path / "params.yaml"
    p.write_text(text)
    return p


def test_repo_params_load_as_typed_objects():
    p = load_params("params.yaml")
    assert isinstance(p, Params)
    assert p.domain("eyes").train_refiner.batch_size >= 2
    assert p.domain("hands").ingest.cube_mm > 0


def test_unknown_key_is_named(tmp_path):
    with pytest.raises(ParamsError, match=r"unknown key eyes\.train_refiner\.lrr"):
        load_params(write(tmp_path, "eyes:\n  train_refiner:\n    lrr: 0.1\n"))


def test_out_of_range_is_named(tmp_path):
    with pytest.raises(ParamsError, match=r"hands\.train_refiner\.lr_r: -1\.0 out of range"):
        load_params(write(tmp_path, "hands:\n  train_refiner:\n    lr_r: -1\n"))


def test_fields_that_do_not_go_together_are_named(tmp_path):
    with pytest.raises(ParamsError, match=r"hands\.train_refiner: hole_cost 0\.1 needs self_reg: identity"):
        load_params(write(tmp_path, "hands:\n  train_refiner:\n    hole_cost: 0.1\n    self_reg: derivatives\n"))
    with pytest.raises(ParamsError, match=r"hands\.train_refiner: holes: true needs hole_cost: 0"):
        load_params(write(tmp_path, "hands:\n  train_refiner:\n    holes: true\n    hole_cost: 0.1\n"))
    with pytest.raises(ParamsError, match=r"eyes\.train_refiner: hole_blobs: true needs holes: true"):
        load_params(write(tmp_path, "eyes:\n  train_refiner:\n    hole_blobs: true\n"))


def test_wrong_type_and_choice(tmp_path):
    with pytest.raises(ParamsError, match=r"ingest\.shard_size: expected int"):
        load_params(write(tmp_path, "ingest:\n  shard_size: many\n"))
    with pytest.raises(ParamsError, match=r"eyes\.train_refiner\.discriminator: 'medium' is not one of"):
        load_params(write(tmp_path, "eyes:\n  train_refiner:\n    discriminator: medium\n"))
    with pytest.raises(ParamsError, match=r"expected true/false"):
        load_params(write(tmp_path, "eyes:\n  train_refiner:\n    history: 1\n"))


def test_overrides_merge_deeply(tmp_path):
    p = load_params(write(tmp_path, "seed: 3\n"), overrides={"eyes": {"train_refiner": {"steps": 7}}})
    assert p.seed == 3 and p.eyes.train_refiner.steps == 7
    assert p.eyes.train_refiner.batch_size == Params().eyes.train_refiner.batch_size


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ParamsError, match="not found"):
        load_params(tmp_path / "nope.yaml")
    with pytest.raises(ParamsError, match="not valid YAML"):
        load_params(write(tmp_path, "a: [1,\n"))
    with pytest.raises(ParamsError, match="unknown domain"):
        Params().domain("feet")


def test_a_key_given_twice_is_named_with_its_line(tmp_path):
    # plain YAML keeps the last value silently: a stale threshold above the new one would hide
    with pytest.raises(ParamsError, match=r"(?s)duplicate key 'max_label_shift'.*line 4"):
        load_params(write(tmp_path, "eyes:\n  refine:\n    max_label_shift: 50.0\n    max_label_shift: 100.0\n"))
    shared = "a: &r\n  steps: 3\neyes:\n  train_refiner: *r\nhands:\n  train_refiner: *r\n"  # aliases are not duplicates
    with pytest.raises(ParamsError, match="unknown key a"):
        load_params(write(tmp_path, shared))


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
def test_non_finite_numbers_are_named(tmp_path, value):
    with pytest.raises(ParamsError, match=r"eyes\.train_refiner\.lr_r: .* is not a finite number"):
        load_params(write(tmp_path, f"eyes:\n  train_refiner:\n    lr_r: {value}\n"))


def test_dataclass_defaults_are_the_shipped_values():
    """params.yaml repeats the defaults (with their reasons in pipeline/params.py): a value changed in
    one place only would make a run without params.yaml (or with a partial one) differ silently."""
    import yaml

    from pipeline.params import to_dict

    defaults, shipped = to_dict(Params()), yaml.safe_load(open("params.yaml"))

    def differ(a: dict, b: dict, prefix: str = "") -> list[str]:
        out = []
        for k, v in b.items():
            if isinstance(v, dict):
                out += differ(a.get(k, {}), v, f"{prefix}{k}.")
            elif a.get(k) != v:
                out.append(f"{prefix}{k}: default {a.get(k)!r}, params.yaml {v!r}")
        return out

    assert differ(defaults, shipped) == []
