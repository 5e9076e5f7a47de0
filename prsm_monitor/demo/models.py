"""Small real models for the demo nodes, trained with NumPy on seeded synthetic data.

Every model is trained at start-up (a few milliseconds each) from a :class:`Task`, a seeded
synthetic data set: Gaussian clusters for classifiers, a noisy linear law for regressors.
The workload driver samples its requests from the same task, so a prediction's confidence
is the model's real softmax output on a real input. *Drift* moves the input distribution:
``drift`` in [0, 1] attenuates a classifier's inputs towards their centroid, keeping
``1 - 0.9 * drift`` of their spread (a sensor losing gain: the evidence for every class
shrinks, so the top-class probability falls; measured with seed 0, the mean confidence
over the four classifiers goes from 0.92 to 0.83 at drift 0.5, 0.67 at 0.8 and 0.52 at 1),
and shifts a regressor's inputs away from where it was trained.

Models are labelled truthfully: they all run on NumPy (``framework="numpy"``); ``kind`` is
``"classifier"`` or ``"regressor"`` and ``architecture`` names the model family.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ModelSpec:
    """One catalog entry. ``service_time`` (s) is how long an inference holds its node's
    (emulated) accelerator: the stand-in for a large model's compute, which makes queueing
    under load real. The NumPy forward pass itself also runs and produces the answer."""

    name: str
    architecture: str  # softmax-regression | mlp | linear-regression
    features: int
    classes: int = 0  # 0 for a regressor
    hidden: int = 0  # MLP hidden units
    service_time: float = 0.05
    separation: float = 3.0  # distance scale of class means, in units of the noise

    @property
    def kind(self) -> str:
        return "regressor" if self.classes == 0 else "classifier"


CATALOG: tuple[ModelSpec, ...] = (
    ModelSpec("sentiment-softmax", "softmax-regression", features=8, classes=3, service_time=0.12),
    ModelSpec("intent-mlp", "mlp", features=12, classes=5, hidden=24, service_time=0.25),
    ModelSpec("fraud-mlp", "mlp", features=10, classes=2, hidden=16, service_time=0.2),
    ModelSpec("topic-softmax", "softmax-regression", features=16, classes=4, service_time=0.1),
    ModelSpec("price-linear", "linear-regression", features=6, service_time=0.08),
    ModelSpec("demand-linear", "linear-regression", features=4, service_time=0.06),
)
FRAMEWORK = "numpy"
MAX_ATTENUATION = 0.9  # at drift 1 a classifier's inputs keep a tenth of their spread


class Task:
    """A seeded synthetic data set that can be sampled, with or without drift."""

    def __init__(self, spec: ModelSpec, seed: int):
        self.spec = spec
        rng = np.random.default_rng(seed)
        if spec.classes:
            directions = rng.normal(size=(spec.classes, spec.features))
            directions /= np.linalg.norm(directions, axis=1, keepdims=True)
            means = directions * spec.separation
            self.means = means - means.mean(axis=0)  # centred: the inputs' centroid is the origin
            self.centroid = np.zeros(spec.features)
        else:
            self.weights = rng.normal(size=spec.features)
            self.bias = float(rng.normal())
            self.shift = rng.normal(size=spec.features)
            self.shift *= 4.0 / np.linalg.norm(self.shift)

    def sample(self, rng: np.random.Generator, n: int, drift: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """``n`` inputs ``(n, features)`` and their true labels (classifier) or targets (regressor)."""
        spec = self.spec
        noise = rng.normal(size=(n, spec.features))
        if spec.classes:
            y = rng.integers(spec.classes, size=n)
            gain = 1.0 - MAX_ATTENUATION * drift
            return self.centroid + gain * (self.means[y] + noise - self.centroid), y
        x = noise + drift * self.shift
        return x, x @ self.weights + self.bias + 0.3 * rng.normal(size=n)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


class Model:
    """A trained model: ``predict(x) -> (prediction, confidence or None)`` for one input.

    It keeps its training inputs' per-feature mean and spread, as feature-drift monitors do:
    :meth:`input_energy` of an input like the training set's is 1 on average (exactly 1 over
    the training set) with a spread of :attr:`input_energy_sd` per input, so the windowed mean
    of it tells how far today's inputs are from what the model learnt on."""

    def __init__(self, spec: ModelSpec, params: dict[str, np.ndarray], inputs: np.ndarray | None = None):
        self.spec = spec
        self.params = params
        self.parameters = int(sum(p.size for p in params.values()))
        if inputs is None:
            self.input_mean, self.input_std = np.zeros(spec.features), np.ones(spec.features)
            self.input_energy_sd = float(np.sqrt(2 / spec.features))  # independent standard normal features
        else:
            self.input_mean, self.input_std = inputs.mean(axis=0), np.maximum(inputs.std(axis=0), 1e-9)
            z = (inputs - self.input_mean) / self.input_std
            self.input_energy_sd = float(np.mean(z * z, axis=1).std())

    def input_energy(self, x) -> float:
        """Mean squared standardised value of the features of ``x`` (1 on average as trained)."""
        z = (np.asarray(x, dtype=float) - self.input_mean) / self.input_std
        return float(np.mean(z * z))

    @property
    def kind(self) -> str:
        return self.spec.kind

    def forward(self, x: np.ndarray) -> np.ndarray:
        p = self.params
        if self.spec.architecture == "mlp":
            x = np.tanh(x @ p["w1"] + p["b1"])
        out = x @ p["w"] + p["b"]
        return _softmax(out) if self.spec.classes else out

    def predict(self, x) -> tuple[float | int, float | None]:
        """Class index and top-class probability, or the regressed value and None."""
        x = np.asarray(x, dtype=float)
        if x.shape != (self.spec.features,) or not np.isfinite(x).all():
            raise ValueError(f"{self.spec.name} expects {self.spec.features} finite numbers")
        out = self.forward(x[None, :])[0]
        if self.spec.classes:
            k = int(out.argmax())
            return k, float(out[k])
        return float(out), None


def train(spec: ModelSpec, task: Task, seed: int, samples: int = 400, epochs: int = 60) -> Model:
    """Fit ``spec`` on ``samples`` draws of ``task``: full-batch Adam with a little L2 for the
    classifiers, least squares for a regressor. Deterministic for a given seed."""
    rng = np.random.default_rng(seed)
    x, y = task.sample(rng, samples)
    if not spec.classes:
        design = np.hstack([x, np.ones((samples, 1))])
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        return Model(spec, {"w": coef[:-1], "b": np.array(coef[-1])}, x)
    params = {}
    width = spec.features
    if spec.architecture == "mlp":
        params["w1"] = rng.normal(scale=1 / np.sqrt(width), size=(width, spec.hidden))
        params["b1"] = np.zeros(spec.hidden)
        width = spec.hidden
    params["w"] = rng.normal(scale=0.1, size=(width, spec.classes))
    params["b"] = np.zeros(spec.classes)
    onehot = np.eye(spec.classes)[y]
    moments = {k: (np.zeros_like(v), np.zeros_like(v)) for k, v in params.items()}
    lr, l2, b1, b2 = 0.05, 0.01, 0.9, 0.999
    for t in range(1, epochs + 1):
        hidden = np.tanh(x @ params["w1"] + params["b1"]) if "w1" in params else x
        delta = (_softmax(hidden @ params["w"] + params["b"]) - onehot) / samples
        grads = {"w": hidden.T @ delta + l2 * params["w"], "b": delta.sum(axis=0)}
        if "w1" in params:
            back = (delta @ params["w"].T) * (1 - hidden**2)
            grads["w1"] = x.T @ back + l2 * params["w1"]
            grads["b1"] = back.sum(axis=0)
        for k, g in grads.items():
            m, v = moments[k]
            m[:] = b1 * m + (1 - b1) * g
            v[:] = b2 * v + (1 - b2) * g * g
            params[k] -= lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + 1e-8)
    return Model(spec, params, x)


def build_catalog(seed: int, specs=CATALOG) -> tuple[dict[str, Task], dict[str, Model]]:
    """Tasks and trained models for every spec, keyed by model name."""
    tasks = {s.name: Task(s, seed * 1000 + i) for i, s in enumerate(specs)}
    models = {s.name: train(s, tasks[s.name], seed * 1000 + 500 + i) for i, s in enumerate(specs)}
    return tasks, models
