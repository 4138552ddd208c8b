"""An articulated right hand of capsules, random poses within joint limits, NYU's 36 joints.

Hand frame (mm): origin at the wrist centre, +y towards the fingers, +x towards the thumb,
+z out of the palm. Fingers F1..F4 are NYU's (pinky, ring, middle, index), then the thumb TH.
Each finger's three phalanges bend in the plane of its splay direction and +z (MCP, PIP, DIP
flexion; MCP abduction swings the plane); the thumb's metacarpal swings about the CMC
(abduction, opposition) and its two phalanges bend towards the palm. Sizes are an adult hand's,
scaled per frame.

NYU names two points per bone, KNUk_A / KNUk_B for bone k = 3 (distal), 2 (middle), 1
(proximal): we put A at the bone's distal end and B at its proximal end, so KNU3_A is the tip,
KNU2_B the PIP joint ("mid" of the 14 evaluation joints) and TH_KNU2_B the thumb's MCP. PALM_1 /
PALM_2 are the ulnar / radial wrist, PALM_3 the palm centre (on the middle metacarpal), and
PALM_4..6 (unused by the evaluation) the thumb CMC and the index / pinky metacarpal bases.
"""
from __future__ import annotations

import numpy as np

from pipeline.formats.nyu import uvd_to_xyz

# per finger F1..F4 (pinky, ring, middle, index)
MCP = np.array([[-33.0, 78, 0], [-13, 88, 0], [7, 92, 0], [27, 88, 0]])
CARPAL = np.array([[-16.0, 14, 0], [-6, 16, 0], [4, 16, 0], [14, 14, 0]])
SPLAY_DEG = np.array([-14.0, -5, 2, 8])
LENGTHS = np.array([[32.0, 20, 18], [42, 27, 21], [46, 29, 22], [42, 25, 20]])
RADII = np.array([[8.0, 7.5, 7], [9, 8.5, 7.5], [9.5, 9, 8], [9.5, 8.5, 7.5]])
METACARPAL_R = np.array([11.0, 12, 13, 13])
# thumb: CMC, bone lengths (metacarpal, proximal, distal), radii
THUMB_CMC = np.array([18.0, 16, 4])
THUMB_LENGTHS = np.array([42.0, 32, 26])
THUMB_RADII = np.array([13.0, 10.5, 9])
WRIST = np.array([[-14.0, 0, 0], [14, 0, 0]])  # PALM_1 (ulnar), PALM_2 (radial)
WRIST_R = 18.0
PALM_CENTER = CARPAL[2] + 0.6 * (MCP[2] - CARPAL[2])
FOREARM_R = 24.0
FOREARM_START = np.array([0.0, -20, -2])

# points: 36 NYU joints, then 2 extra (ring and middle metacarpal bases), then 2 forearm ends
N_POINTS = 40
RING_BASE, MIDDLE_BASE, ARM_A, ARM_B = 36, 37, 38, 39
PALM_3_IDX = 32


def finger_points(f: int) -> list[int]:
    """NYU indices of finger f (0..4): [tip, DIP, DIP, PIP, PIP, MCP] (A, B of bones 3, 2, 1)."""
    return list(range(6 * f, 6 * f + 6))


def capsule_table() -> tuple[np.ndarray, np.ndarray]:
    """(P, 2) point indices of each capsule's ends and (P,) radii (unscaled); forearm last."""
    pairs, radii = [], []
    for f in range(5):  # phalanges: proximal (MCP->PIP), middle, distal
        tip, dip, _, pip, _, mcp = finger_points(f)
        pairs += [(mcp, pip), (pip, dip), (dip, tip)]
        radii += list(RADII[f]) if f < 4 else list(THUMB_RADII)
    # metacarpals: carpal base -> MCP (pinky, ring, middle, index)
    for base, f in zip((35, RING_BASE, MIDDLE_BASE, 34), range(4)):
        pairs.append((base, finger_points(f)[5]))
        radii.append(METACARPAL_R[f])
    pairs += [(30, 31), (ARM_A, ARM_B)]
    radii += [WRIST_R, FOREARM_R]
    return np.array(pairs), np.array(radii)


CAPSULES, CAPSULE_R = capsule_table()


def joint_radii() -> np.ndarray:
    """(36,) the largest radius of the capsules meeting at each joint: the surface lies that far
    in front of the joint centre along its own ray, unless something else is in front."""
    r = np.zeros(N_POINTS)
    for (i, j), rad in zip(CAPSULES, CAPSULE_R):
        r[i], r[j] = max(r[i], rad), max(r[j], rad)
    r[PALM_3_IDX] = METACARPAL_R[2]  # on the middle metacarpal's axis
    return r[:36]


def _rot(axis: int, angle: np.ndarray) -> np.ndarray:
    """(N, 3, 3) rotations about a coordinate axis by angles (rad)."""
    c, s = np.cos(angle), np.sin(angle)
    m = np.zeros(angle.shape + (3, 3))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    m[..., axis, axis] = 1
    m[..., i, i], m[..., j, j], m[..., i, j], m[..., j, i] = c, c, -s, s
    return m


def sample_poses(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Joint angles (deg) within limits: a shared grasp plus per-finger variation, some fingers
    stretched out alone (pointing), so poses look like hands rather than uniform noise."""
    grasp = np.where(rng.random(n) < 0.3, rng.uniform(0, 0.2, n), rng.uniform(0, 1, n))
    curl = np.clip(grasp[:, None] + rng.normal(0, 0.2, (n, 5)), 0, 1)
    curl = np.where(rng.random((n, 5)) < 0.15, rng.uniform(0, 0.15, (n, 5)), curl)
    spread = rng.uniform(-0.3, 1.0, n)
    pip = np.clip(curl[:, :4] * 105 + rng.normal(0, 8, (n, 4)), 0, 110)
    return {
        "mcp": np.clip(-10 + curl[:, :4] * 100 + rng.normal(0, 5, (n, 4)), -10, 90),
        "abd": (1 - curl[:, :4]) * (rng.uniform(-10, 10, (n, 4)) + SPLAY_DEG * spread[:, None]),
        "pip": pip,
        "dip": np.clip(0.66 * pip + rng.normal(0, 5, (n, 4)), 0, 80),
        "th_abd": rng.uniform(-10, 40, n),
        "th_opp": np.clip(curl[:, 4] * 60 + rng.normal(0, 10, n), 0, 60),
        "th_mcp": np.clip(curl[:, 4] * 55 + rng.normal(0, 8, n), 0, 55),
        "th_ip": np.clip(curl[:, 4] * 80 + rng.normal(0, 10, n), -15, 80),
    }


def hand_points(pose: dict[str, np.ndarray], forearm_mm: float) -> np.ndarray:
    """(N, 40, 3) hand-frame points of the posed hand (36 NYU joints + extras), unscaled."""
    n = len(pose["mcp"])
    pts = np.zeros((n, N_POINTS, 3))
    z = np.array([0.0, 0, 1])
    rad = {k: np.radians(v) for k, v in pose.items()}
    for f in range(4):
        ang = np.radians(SPLAY_DEG[f]) + rad["abd"][:, f]
        base = np.stack([np.sin(ang), np.cos(ang), np.zeros(n)], 1)
        flex = np.cumsum(np.stack([rad["mcp"][:, f], rad["pip"][:, f], rad["dip"][:, f]], 1), 1)
        p = np.broadcast_to(MCP[f], (n, 3)).copy()
        chain = [p]
        for k in range(3):
            p = p + LENGTHS[f, k] * (np.cos(flex[:, k, None]) * base + np.sin(flex[:, k, None]) * z)
            chain.append(p)
        mcp, pip, dip, tip = chain
        pts[:, finger_points(f)] = np.stack([tip, dip, dip, pip, pip, mcp], 1)
    rest = np.radians(35.0)
    meta = np.array([np.sin(rest) * np.cos(0.35), np.cos(rest) * np.cos(0.35), np.sin(0.35)])
    swing = _rot(2, -rad["th_abd"]) @ _rot(1, rad["th_opp"])  # away from the index, then palmar
    m = swing @ meta
    towards_palm = np.array([-1.0, 0, 1]) / np.sqrt(2)
    fl = towards_palm - (m @ towards_palm)[:, None] * m
    fl /= np.linalg.norm(fl, axis=1, keepdims=True)
    cmc = np.broadcast_to(THUMB_CMC, (n, 3))
    t_mcp = cmc + THUMB_LENGTHS[0] * m
    a1, a2 = rad["th_mcp"][:, None], (rad["th_mcp"] + rad["th_ip"])[:, None]
    t_ip = t_mcp + THUMB_LENGTHS[1] * (np.cos(a1) * m + np.sin(a1) * fl)
    t_tip = t_ip + THUMB_LENGTHS[2] * (np.cos(a2) * m + np.sin(a2) * fl)
    pts[:, finger_points(4)] = np.stack([t_tip, t_ip, t_ip, t_mcp, t_mcp, cmc], 1)
    pts[:, 30:32] = WRIST
    pts[:, 32] = PALM_CENTER
    pts[:, 33], pts[:, 34], pts[:, 35] = THUMB_CMC, CARPAL[3], CARPAL[0]
    pts[:, RING_BASE], pts[:, MIDDLE_BASE] = CARPAL[1], CARPAL[2]
    pts[:, ARM_A] = FOREARM_START
    pts[:, ARM_B] = FOREARM_START + np.array([0.0, -forearm_mm, -4])
    return pts


# hand frame -> camera when all angles are 0: fingers up (+y), palm facing the camera (-z)
CANONICAL = np.diag([-1.0, 1.0, -1.0])


def sample_placements(rng: np.random.Generator, n: int, min_mm: float, max_mm: float) -> dict[str, np.ndarray]:
    """Global rotation (palm any way round; forearm pointing down-ish and away from the camera,
    so it leaves the frame and is never nearer than the hand), palm-centre position, hand scale."""
    yaw = rng.uniform(-np.pi, np.pi, n)
    pitch = np.radians(rng.uniform(-60, 15, n))
    roll = np.radians(rng.uniform(-75, 75, n))
    rot = _rot(2, roll) @ _rot(0, pitch) @ _rot(1, yaw) @ CANONICAL
    z = rng.uniform(min_mm, max_mm, n)
    u, v = rng.uniform(200, 440, n), rng.uniform(150, 330, n)
    return {"rot": rot, "center": uvd_to_xyz(np.stack([u, v, z], 1)), "scale": rng.uniform(0.85, 1.15, n)}


def pose_hands(pts: np.ndarray, place: dict[str, np.ndarray]) -> np.ndarray:
    """Hand-frame points (N, P, 3) -> camera mm: scaled about the palm centre, rotated, placed."""
    local = (pts - PALM_CENTER) * place["scale"][:, None, None]
    return np.einsum("nij,npj->npi", place["rot"], local) + place["center"][:, None, :]
