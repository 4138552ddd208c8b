"""params.yaml as typed, validated dataclasses: the one config source of the pipeline.

Every stage reads its parameters through `load_params`. An unknown key, a wrong type or an
out-of-range value is a `ParamsError` that names the dotted key (e.g. `eyes.train_refiner.lr`).
Ranges live beside the fields (`fld(..., ge=0)`), so the dataclass is the whole schema.
"""
from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from pipeline.errors import PipelineError

DOMAINS = ("eyes", "hands")


class ParamsError(PipelineError, ValueError):
    """A params file or override that does not fit the schema; names the dotted key."""


def fld(default: Any, *, ge=None, gt=None, le=None, lt=None, doc: str = ""):
    """A dataclass field with a range; lists/dicts defaults are copied per instance."""
    meta = {k: v for k, v in dict(ge=ge, gt=gt, le=le, lt=lt, doc=doc).items() if v is not None}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda d=default: type(d)(d), metadata=meta)
    return field(default=default, metadata=meta)


def fld_of(cls, doc: str = "", **values):
    """A section field whose defaults differ from `cls`'s for this domain (the reason in `doc`)."""
    return field(default_factory=lambda: cls(**values), metadata={"doc": doc})


# ---------------------------------------------------------------- simulate / ingest
@dataclass(frozen=True)
class EyeSimulate:
    source: Literal["generate", "folders"] = "generate"
    # used when source == "folders": real dataset roots (UnityEyes imgs dir, MPIIGaze root)
    synthetic_dir: str = ""
    real_dir: str = ""
    n_synthetic: int = fld(6000, ge=1, doc="UnityEyes-style renders")
    n_participants: int = fld(17, ge=2, doc="real-like participants p00..pNN")
    n_per_participant: int = fld(400, ge=1, doc="frames per participant; a frame holds a left and a right eye")
    jpeg_quality: int = fld(75, ge=10, le=100, doc="synthetic renders; UnityEyes' own jpgs use IJG quality 75")
    workers: int = fld(2, ge=1, doc="render processes")


@dataclass(frozen=True)
class EyeIngest:
    head_pose_max_deg: float = fld(20.0, gt=0, le=180, doc="GazeML's UnityEyes head-pose filter")
    test_participants: list[str] = fld(["p00", "p01", "p02", "p03", "p04"])
    test_fraction: float = fld(0.3, ge=0, lt=1, doc="real sources without participants (h5, folder): share to "
                                  "real_test (unlabelled, so 0 sends every group to real_train / real_holdout)")
    val_participants: list[str] = fld(["p15", "p16"], doc="labelled real_val: people in neither real_train nor real_test, "
                                      "on which every setting is chosen (real_test is read by evaluate alone)")
    val_fraction: float = fld(0.15, ge=0, lt=1, doc="real sources without participants: share to real_val")
    crop_w: int = fld(55, ge=8)
    crop_h: int = fld(35, ge=8)


@dataclass(frozen=True)
class HandSimulate:
    source: Literal["generate", "folders"] = "generate"
    synthetic_dir: str = ""
    real_dir: str = ""
    n_synthetic: int = fld(3000, ge=1)
    n_real_train: int = fld(2500, ge=1, doc="frames of real/train: real_train, real_holdout and real_val")
    n_real_test: int = fld(1000, ge=1)
    min_distance_mm: float = fld(500.0, ge=300, doc="palm-centre depth range of the rendered hands")
    max_distance_mm: float = fld(900.0, ge=300)
    workers: int = fld(2, ge=1)


@dataclass(frozen=True)
class HandIngest:
    cube_mm: float = fld(300.0, gt=0)
    size: int = fld(64, ge=16)
    min_depth_mm: float = fld(200.0, ge=0, doc="depth range where a hand may be (labels or depth blob)")
    max_depth_mm: float = fld(1500.0, gt=0)
    min_hand_pixels: int = fld(200, ge=1, doc="fewer frame pixels of depth inside the cube: no hand")
    kinect: int = fld(1, ge=1, le=3, doc="NYU camera whose frames are read (depth_K_*.png)")
    # Where labelled splits' cubes are centred. Unlabelled real frames can only be centred from
    # depth; centring the others from their labels puts the hand ~30 mm deeper in real_train
    # crops than in synthetic ones, an offset D detects and R learns to add, moving every joint.
    center: Literal["depth", "labels"] = "depth"
    context_margin: float = fld(1.75, ge=1, doc="synthetic context crops (synthetic_context split): this x the "
                                "cube around the same centre, at the same pixel pitch; refine@hands refines "
                                "them and cuts the final crop around the refined depth, as real frames are cut. "
                                "The wider the context, the more often that centring lands off the hand, as it "
                                "does on 4.4 % of real_val frames: 1.7 % of refined crops at 1.5, 5.7 % at 1.75, "
                                "9.7 % at 2.0. 1.75 is the closest; real_val (3 estimator seeds): 39.3 mm against "
                                "40.8 at 1.5 (2.0: 38.5 mm, but 1.2 mm worse on crops that hold the hand; "
                                "BENCHMARKS.md, \"How much context\")")
    # real_val: whole sequences of the real training folder (a room / recording session), so no
    # val frame shares a room with a real_train frame. NYU's train folder is one long recording:
    # blocks of contiguous frames are its sequences.
    sequence_frames: int = fld(100, ge=1, doc="frames per sequence of real_dir/train (the simulator's room unit)")
    val_sequences: list[int] = fld([20, 21, 22, 23, 24], doc="sequences (frame k: (k-1) // sequence_frames) of real_dir/train "
                                   "that form the labelled real_val split (an entry past the folder's last frame is an error)")


@dataclass(frozen=True)
class Ingest:
    shard_size: int = fld(1000, ge=1)
    workers: int = fld(2, ge=1)
    max_reject_fraction: float = fld(0.05, ge=0, le=1)
    holdout_fraction: float = fld(0.2, ge=0, lt=1, doc="real_train people's / sequences' frames held out "
                                  "(real_holdout): realism's same-population reference, seen by no model")


# ---------------------------------------------------------------- SimGAN
@dataclass(frozen=True)
class TrainRefiner:
    """SimGAN training (pipeline/simgan); defaults = the CPU profile for eyes (<= 4 min, 2 cores)."""
    channels: int = fld(32, ge=1, doc="R's feature maps (paper: 64)")
    blocks: int = fld(4, ge=1, doc="R's ResNet blocks (paper: 4)")
    noise_channels: int = fld(0, ge=0, doc="pseudo-noise input fields of R (0 = the paper's R)")
    padding: Literal["zeros", "replicate", "edge"] = "zeros"  # R's conv padding (nets/refiner.py says why)
    # Depth crops: a hole head draws each pixel's hole (+1, the far plane) at a learnt rate from a
    # pseudo-noise field of the input, so R can scatter missing depth along edges as a depth
    # camera does (nets/refiner.py; bench/hand_gap.py shows those drop-outs are the gain to earn).
    holes: bool = False
    # With holes: a second draw from a spatially correlated field, so holes can also come as the
    # sensor's drop-out blobs, not only as independent pixels (nets/refiner.py).
    hole_blobs: bool = False
    # A tone head: R's image mixed with its own histogram equalization at a share D sets, a per-image
    # grey-level map that a local R cannot make (MPIIGaze patches are equalized; nets/refiner.py).
    tone: bool = False
    discriminator: Literal["local", "global"] = "local"
    d_width: float = fld(1.0, gt=0, doc="multiplier on the paper's D widths (96, 64, 32, 32)")
    # lowpass: 4x4 block means of R(x) and x must agree (the paper's psi left general): the labels
    # live in where dark and bright regions sit, so R may add detail below that scale (noise, pores)
    self_reg: Literal["identity", "channel_mean", "derivatives", "lowpass"] = "identity"
    lam: float = fld(0.5, ge=0, doc="lambda on the self-regularization (a per-element mean L1)")
    # foreground: only where x is below the far plane (+1), i.e. on the hand of a depth crop. The
    # far-plane background is most of a crop; averaged in, it dilutes lambda on the hand, where
    # the labels live, and forbids the clutter that real backgrounds have.
    self_reg_region: Literal["all", "foreground"] = "all"
    # A depth camera's pixel is either about right or missing (a hole: the far plane, +1). With
    # hole_cost > 0 a refined pixel costs min(|R(x) - x|, hole_cost + |R(x) - 1|): R may drop a
    # pixel at a fixed price but not move the surface. 0: the paper's plain L1 (identity psi only).
    hole_cost: float = fld(0.0, ge=0, doc="self-regularization price of a hole (depth crops); 0 = plain L1")
    history: bool = True
    history_size: int = fld(4096, ge=1)
    batch_size: int = fld(64, ge=2)
    lr_r: float = fld(2e-4, gt=0)
    lr_d: float = fld(2e-4, gt=0)
    adam_beta1: float = fld(0.5, ge=0, lt=1, doc="Adam's first beta (0.5 steadies GAN training)")
    ema_decay: float = fld(0.99, ge=0, lt=1, doc="the written R is this EMA of R's weights; 0 = last R")
    pretrain_r_steps: int = fld(60, ge=0, doc="R steps on self-regularization only (paper: 1000)")
    pretrain_d_steps: int = fld(20, ge=0, doc="D steps before the adversarial phase (paper: 200)")
    steps: int = fld(200, ge=1, doc="adversarial rounds, each K_g R steps + K_d D steps")
    k_g: int = fld(2, ge=1)
    k_d: int = fld(1, ge=1)
    log_every: int = fld(20, ge=1)
    grid_every: int = fld(50, ge=1)
    checkpoint_every: int = fld(25, ge=1)
    min_mean_change: float = fld(0.01, ge=0, doc="identity-collapse guard on mean |R(x)-x| in [-1,1] units")
    workers: int = fld(1, ge=0, doc="loader processes per stream (synthetic, real)")
    threads: int = fld(0, ge=0, doc="CPU intra-op threads, 0 = one per core (dvc repro runs one stage at a "
                       "time); 1 leaves a core to the loader when other jobs share the cores")
    precision: Literal["auto", "bf16", "fp32"] = "auto"

    def __post_init__(self):
        if self.hole_cost > 0 and self.self_reg != "identity":
            raise ParamsError(f"hole_cost {self.hole_cost} needs self_reg: identity, not {self.self_reg!r}")
        if self.hole_blobs and not self.holes:
            raise ParamsError("hole_blobs: true needs holes: true (a second draw of the hole head)")
        if self.holes and self.hole_cost > 0:  # a fixed price: D asks for more holes than any sensor makes
            raise ParamsError(f"holes: true needs hole_cost: 0 (a hole costs its depth jump), not {self.hole_cost}")
        if self.tone and self.holes:  # equalizing a depth crop would move its surface
            raise ParamsError("tone: true is for grey images; it cannot go with holes: true (depth crops)")
        if self.self_reg == "lowpass" and self.self_reg_region != "all":  # a cell mixes hand and background
            raise ParamsError(f"self_reg: lowpass needs self_reg_region: all, not {self.self_reg_region!r}")


@dataclass(frozen=True)
class Refine:
    batch_size: int = fld(256, ge=1)
    workers: int = fld(2, ge=1, doc="local worker processes, one synthetic shard per task")
    threads: int = fld(0, ge=0, doc="torch threads per worker; 0 = the cores split between the workers")
    dask_address: str = fld("", doc="Dask scheduler (tcp://host:port): run the shard tasks there via Prefect")
    max_label_shift: float = fld(1.0, ge=0, doc="annotation check: fail above this mean shift (eyes: px, hands: mm)")
    max_lost_fraction: float = fld(0.05, ge=0, le=1, doc="annotation check: fail above this mean fraction of "
                                   "label points lost (eyes: iris discs, hands: joints that lost depth)")
    max_label_shift_p95: float = fld(3.0, ge=0, doc="annotation check: fail above this 95th percentile of the "
                                     "per-sample shift (a mean alone passes a refiner that moves a few samples a lot)")
    max_joint_move_px: float = fld(0.75, ge=0, doc="hands' annotation check: fail above this mean 2D displacement "
                                   "(crop px) of the joints' local surface (patch match; depth at the joint is "
                                   "blind to a hand slid sideways)")
    max_joint_move_px_p95: float = fld(1.5, ge=0, doc="hands: the same, its 95th percentile over samples")
    precision: Literal["auto", "bf16", "fp32"] = "auto"
    grid_samples: int = fld(8, ge=1, doc="synthetic/refined pairs in the dataset card's sample grid")


# ---------------------------------------------------------------- estimators
@dataclass(frozen=True)
class TrainEstimator:
    epochs: int = fld(8, ge=1)
    seeds: int = fld(1, ge=1, doc="estimator_seeds: N > 1 trains seeds seed..seed+N-1 on the same set (seed's "
                     "max_samples draw: the seeds vary initial weights and batch order, not the subset); evaluate "
                     "and the report give their mean +- sd beside seed 0's interval (N x the training time)")
    batch_size: int = fld(128, ge=1)
    lr: float = fld(2e-3, gt=0, doc="peak of the one-cycle schedule (AdamW)")
    weight_decay: float = fld(1e-4, ge=0)
    max_samples: int = fld(2000, ge=0, doc="budget: samples per epoch, the same for synthetic, refined "
                            "and real_train (a smaller set is cycled); 0 = the set's own size")
    augment: bool = True
    shift_px: float = fld(2.0, ge=0, doc="random translation, up to this many pixels")
    rotate_deg: float = fld(0.0, ge=0, le=180, doc="hands: random in-plane rotation, up to this many degrees")
    intensity: float = fld(0.1, ge=0, lt=1, doc="eyes: contrast/brightness jitter amplitude")
    equalize: bool = fld(False, doc="eyes: the net histogram-equalizes each input first (GazeML's preprocessing; "
                         "MPIIGaze's patches are equalized already), for every training set and at evaluation")
    width: int = fld(16, ge=1, doc="gaze: 32 is the paper's net; hands: first conv's channels")
    precision: Literal["auto", "bf16", "fp32"] = "auto"
    threads: int = fld(0, ge=0, doc="torch CPU threads, 0 = all cores (fast; the bytes repeat on the same "
                       "core count); 1 keeps the model bytes the same on any core count")


@dataclass(frozen=True)
class Realism:
    epochs: int = fld(15, ge=1)
    batch_size: int = fld(128, ge=2)
    lr: float = fld(2e-3, gt=0)
    width: int = fld(16, ge=1, doc="C2ST classifier's first conv channels")
    max_samples: int = fld(2000, ge=10, doc="per set (real, synthetic, refined)")
    test_fraction: float = fld(0.3, gt=0, lt=1)
    kid_subsets: int = fld(50, ge=1)
    kid_subset_size: int = fld(200, ge=2, doc="images per KID subset (at most the held-out count)")
    precision: Literal["auto", "bf16", "fp32"] = "auto"
    threads: int = fld(0, ge=0, doc="torch CPU threads (0 = all cores), as train_estimator.threads")


# ---------------------------------------------------------------- domains
@dataclass(frozen=True)
class EyesDomain:
    simulate: EyeSimulate = field(default_factory=EyeSimulate)
    ingest: EyeIngest = field(default_factory=EyeIngest)
    train_refiner: TrainRefiner = fld_of(TrainRefiner, padding="replicate", steps=100, doc=(
        "steps 100: on real_val with the calibrated real-like eyes 50 / 100 / 150 / 200 rounds read 7.24 / 5.54 / "
        "5.74 / 6.47 deg (synthetic-trained 6.04); at 200 R paints rim-like streaks across the iris; "
        "padding: zeros (the paper's) can draw a border D spots; on real_val the two tie (6.27 vs 6.14 deg, "
        "one seed, within the estimator's spread), so replicate stays; identity psi: lowpass psi with 4 noise "
        "fields, lam 1.0, gave 7.53 deg (BENCHMARKS.md, \"Settings re-chosen on real_val\"); tone: off, 6.98 deg "
        "against 6.06 over 3 R seeds x 3 estimator seeds, though it closes more of the appearance gap (BENCHMARKS.md, "
        "\"A refiner that may add noise or equalize\")"))
    refine: Refine = field(default_factory=Refine)
    train_estimator: TrainEstimator = fld_of(TrainEstimator, epochs=6, max_samples=4000, equalize=True, doc=(
        "4000 samples x 6 epochs: the eye sets' size, in about the time of the hands' 15 epochs; equalize: on "
        "real_val, seeds 0-2, synthetic-trained 5.10 vs 6.05 deg, refined-trained 5.11 vs 6.20 (seed 0: real_train "
        "2.68 vs 2.50; BENCHMARKS.md, \"Gaze estimator: equalized inputs\")"))
    realism: Realism = fld_of(Realism, epochs=8, doc="~180 classifier steps, as hands' 15 epochs of its smaller set")


@dataclass(frozen=True)
class HandsDomain:
    simulate: HandSimulate = field(default_factory=HandSimulate)
    ingest: HandIngest = field(default_factory=HandIngest)
    train_refiner: TrainRefiner = fld_of(
        TrainRefiner, padding="edge", holes=True, hole_blobs=True, lam=1.0, self_reg_region="foreground", batch_size=32,
        min_mean_change=0.005,
        doc="padding edge: zeros drew a line along the crop's edge (a tell), replicate took 1.7x the time; "
            "holes: real_val, 3 estimator seeds (bench/refiner_length.py --seeds 0 1 2): 41.72 mm against "
            "43.67 without the head; 4 pseudo-noise inputs as well tie (41.60) at 1.2x the training time; "
            "hole_blobs: 41.08 mm against 41.72 with independent draws alone, lower on every estimator seed, "
            "and 41.10 against 41.87 with R's seed 1 (BENCHMARKS.md \"Hole blobs\"); "
            "self-regularization on the hand only (real_val, bench/refiner_length.py: lam 1.0 on the hand "
            "42.10 mm, lam 0.5 over all pixels 43.97 mm with the joints' depth moved 29 mm, failing the check); "
            "min_mean_change over the crop, of which the hand is ~15%")
    refine: Refine = fld_of(Refine, max_label_shift=10.0, max_lost_fraction=0.2, max_label_shift_p95=25.0, doc=(
        "mm of depth at the joints still on the hand; the Kinect model itself loses 9.8% of joints to holes"))
    train_estimator: TrainEstimator = fld_of(TrainEstimator, epochs=15)
    realism: Realism = field(default_factory=Realism)


# ---------------------------------------------------------------- user study
@dataclass(frozen=True)
class Study:
    trials: int = fld(50, ge=1, doc="answers per participant session")
    host: str = "127.0.0.1"
    port: int = fld(8765, ge=1, le=65535)
    # real_val: real_test is read by the evaluate stage alone (the evaluation protocol)
    real_split: Literal["real_val", "real_test", "real_train"] = "real_val"
    display_px: int = fld(440, ge=32, doc="longest side of the shown image (integer upscale)")


@dataclass(frozen=True)
class Params:
    seed: int = fld(0, ge=0)
    ingest: Ingest = field(default_factory=Ingest)
    eyes: EyesDomain = field(default_factory=EyesDomain)
    hands: HandsDomain = field(default_factory=HandsDomain)
    study: Study = field(default_factory=Study)

    def domain(self, name: str) -> EyesDomain | HandsDomain:
        if name not in DOMAINS:
            raise ParamsError(f"unknown domain {name!r}; expected one of {', '.join(DOMAINS)}")
        return getattr(self, name)


# ---------------------------------------------------------------- loading
def _check_range(value, f: dataclasses.Field, key: str) -> None:
    m = f.metadata
    for op, bad in (("ge", lambda a, b: a < b), ("gt", lambda a, b: a <= b),
                    ("le", lambda a, b: a > b), ("lt", lambda a, b: a >= b)):
        if op in m and bad(value, m[op]):
            sym = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}[op]
            raise ParamsError(f"{key}: {value!r} out of range (must be {sym} {m[op]})")


def _coerce(tp, value, key: str):
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ParamsError(f"{key}: expected a mapping, got {type(value).__name__}")
        return build(tp, value, key)
    if origin is Literal:
        if value not in typing.get_args(tp):
            raise ParamsError(f"{key}: {value!r} is not one of {list(typing.get_args(tp))}")
        return value
    if origin is list:
        (item_tp,) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ParamsError(f"{key}: expected a list, got {type(value).__name__}")
        return [_coerce(item_tp, v, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin in (typing.Union, types.UnionType):
        raise ParamsError(f"{key}: union types are not supported in params")
    if tp is bool:
        if not isinstance(value, bool):
            raise ParamsError(f"{key}: expected true/false, got {value!r}")
        return value
    if tp is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value):  # .nan / .inf pass every range check silently
            raise ParamsError(f"{key}: {value!r} is not a finite number")
        return float(value)
    if tp is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if tp is str and isinstance(value, str):
        return value
    raise ParamsError(f"{key}: expected {tp.__name__}, got {type(value).__name__} {value!r}")


def build(cls, data: dict, prefix: str = ""):
    """Build dataclass `cls` from a mapping, naming the dotted key of any error."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for k in data:
        if k not in fields:
            raise ParamsError(f"unknown key {prefix + '.' if prefix else ''}{k} "
                              f"(known: {', '.join(fields)})")
    kwargs = {}
    for name, f in fields.items():
        if name in data:
            key = f"{prefix}.{name}" if prefix else name
            kwargs[name] = _coerce(hints[name], data[name], key)
            _check_range(kwargs[name], f, key)
    try:
        return cls(**kwargs)
    except ParamsError as e:  # a check across fields (__post_init__): name the section
        raise ParamsError(f"{prefix}: {e}" if prefix else str(e)) from None


def deep_merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


class UniqueKeyLoader(yaml.SafeLoader):
    """safe_load that refuses a key given twice in one mapping: plain YAML keeps the last silently,
    so a stale duplicate (e.g. an old threshold left above the new one) would hide in a diff."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, (str, int, float, bool)) and key in seen:
                raise yaml.constructor.ConstructorError("while reading a mapping", node.start_mark,
                                                        f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


def read_yaml_mapping(path: str | Path) -> dict:
    """A YAML file whose top level is a mapping (params.yaml, a profile), or a ParamsError."""
    path = Path(path)
    try:
        data = yaml.load(path.read_text(), Loader=UniqueKeyLoader) or {}
    except FileNotFoundError:
        raise ParamsError(f"{path}: params file not found") from None
    except yaml.YAMLError as e:
        raise ParamsError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise ParamsError(f"{path}: top level must be a mapping")
    return data


def load_params(path: str | Path = "params.yaml", overrides: dict | None = None) -> Params:
    path = Path(path)
    data = read_yaml_mapping(path)
    try:
        return build(Params, deep_merge(data, overrides or {}))
    except ParamsError as e:
        raise ParamsError(f"{path}: {e}") from None


def to_dict(obj) -> dict:
    return dataclasses.asdict(obj)
