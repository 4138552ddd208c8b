"""UnityEyes JSON for a batch of synthetic renders: the real key set, point strings, raw head pose.

Values the embedded renderer has no model for (skybox, PCA shape) keep UnityEyes' keys with
plain placeholder values; readers use only the landmarks, look_vec and head_pose.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from pipeline.formats import unityeyes as ue
from pipeline.simulate import eyes_geometry as geo

if TYPE_CHECKING:
    from pipeline.simulate.eyes_synthetic import Batch

IRIS_TEXTURES = ("eyeball_brown", "eyeball_amber", "eyeball_green", "eyeball_blue", "eyeball_grey")

# plausible z (eye-space depth) of the 2D landmarks; readers ignore it
DEPTH = {k: base + 0.05 * np.sin(np.linspace(0, 2 * np.pi, n))
         for k, n, base in (("interior_margin_2d", 16, 8.9), ("caruncle_2d", 7, 8.88), ("iris_2d", 32, 9.1))}


NO_PCA_SHAPE = ["0"] * 20  # the embedded eye region has no PCA shape model: UnityEyes' key, zero coefficients


def annotations(b: Batch, height: int) -> list[dict]:
    """UnityEyes JSON of every render (its key set, point strings, bottom-left origin, raw head pose)."""
    s, n = b.shape, len(b.shape)
    points = {"interior_margin_2d": geo.margin_points(s), "caruncle_2d": geo.caruncle_points(s),
              "iris_2d": geo.iris_points(s)}
    strings = {k: ue.points_json(v, DEPTH[k], height) for k, v in points.items()}
    look = np.stack([-np.cos(s.pitch) * np.sin(s.yaw), np.sin(s.pitch), -np.cos(s.pitch) * np.cos(s.yaw),
                     np.zeros(n)], 1)  # camera axes, y up
    head_raw = np.stack([b.head_pose_deg[:, 0] % 360.0, b.head_pose_deg[:, 1] + 180.0,
                         b.head_pose_deg[:, 2] % 360.0], 1)
    # every number of the batch formatted in one go (this runs once per render, beside a jpeg encode)
    looks = (("(%.4f, %.4f, %.4f, %.4f)\n" * n) % tuple(look.ravel().tolist())).split("\n")
    heads = (("(%.4f, %.4f, %.4f)\n" * n) % tuple(head_raw.ravel().tolist())).split("\n")
    scalars = np.stack([s.pupil * 0.3, s.iris / s.width * 4.5, b.exposure, b.ambient * 2.0, np.degrees(b.light_angle)], 1)
    cols = (("%.7f %.7f %.6f %.6f %.1f\n" * n) % tuple(scalars.ravel().tolist())).split("\n")
    out = []
    for i in range(n):
        pupil, iris, exposure, ambient, light = cols[i].split()
        out.append({
            **{k: v[i] for k, v in strings.items()},
            "eye_details": {"look_vec": looks[i], "pupil_size": pupil, "iris_size": iris,
                            "iris_texture": IRIS_TEXTURES[b.iris_texture[i]]},
            "lighting_details": {"skybox_texture": "embedded", "skybox_exposure": exposure, "skybox_rotation": "0",
                                 "ambient_intensity": ambient, "light_rotation": f"(30.0, {light}, 0.0)",
                                 "light_intensity": "0.8"},
            "eye_region_details": {"pca_shape_coeffs": NO_PCA_SHAPE, "primary_skin_texture": "embedded"},
            "head_pose": heads[i],
        })
    return out
