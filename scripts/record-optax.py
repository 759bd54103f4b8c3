#!/usr/bin/env python3
"""Records optimizer trajectories and loss values with gradients from optax, the conformance
suite's independent expectation for every named optimizer, gradient transformation, schedule
and loss that has an optax counterpart.

    scripts/record-optax.py          # creates .build/optax-venv (jax[cpu], optax) on first use

Writes Tests/Conformance/Cases/optax/<name>.json: the initial parameters, a sequence of
gradients, and the parameters optax produces after each step (float32, as JAX computes by
default); and loss_<name>.json: targets, predictions, the mean loss and its gradient with
respect to the predictions. The suite (OptimizerTrajectory.swift, RecordedLoss.swift) replays
them through Axon on every backend.
"""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".build", "optax-venv")

if os.path.realpath(sys.prefix) != os.path.realpath(VENV):
    python = os.path.join(VENV, "bin", "python")
    if not os.path.exists(python):
        subprocess.check_call([sys.executable, "-m", "venv", VENV])
        subprocess.check_call([os.path.join(VENV, "bin", "pip"), "install", "-q", "jax[cpu]", "optax", "numpy"])
    os.execv(python, [python] + sys.argv)

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

STEPS = 8  # RAdam rectifies from step 6 with β₂ = 0.999
SHAPES = {"a": (3, 4), "b": (4,)}

# Axon's name → (optax optimizer, learning rate). Hyper-parameters are both libraries' defaults.
OPTIMIZERS = {
    "sgd": (lambda lr: optax.sgd(lr), 0.1),
    "momentum": (lambda lr: optax.sgd(lr, momentum=0.9), 0.1),
    "nesterov": (lambda lr: optax.sgd(lr, momentum=0.9, nesterov=True), 0.1),
    "adam": (lambda lr: optax.adam(lr), 0.01),
    "adamw": (lambda lr: optax.adamw(lr), 0.01),
    "adabelief": (lambda lr: optax.adabelief(lr), 0.01),
    "adagrad": (lambda lr: optax.adagrad(lr), 0.1),
    "rmsprop": (lambda lr: optax.rmsprop(lr), 0.01),
    "rmsprop_centered": (lambda lr: optax.rmsprop(lr, centered=True), 0.01),
    "radam": (lambda lr: optax.radam(lr), 0.01),
    "yogi": (lambda lr: optax.yogi(lr), 0.01),
    "lamb": (lambda lr: optax.lamb(lr), 0.01),
    "fromage": (lambda lr: optax.fromage(lr), 0.01),
    # Transformations and schedules, each in the smallest chain that exercises it.
    "clip_sgd": (lambda lr: optax.chain(optax.clip(0.5), optax.sgd(lr)), 0.1),
    "clip_by_global_norm_sgd": (lambda lr: optax.chain(optax.clip_by_global_norm(1.0), optax.sgd(lr)), 0.1),
    "centralize_sgd": (lambda lr: optax.chain(optax.centralize(), optax.sgd(lr)), 0.1),
    "decayed_weights_sgd": (lambda lr: optax.chain(optax.add_decayed_weights(0.1), optax.sgd(lr)), 0.1),
    "multi_steps_adam": (lambda lr: optax.MultiSteps(optax.adam(lr), every_k_schedule=2), 0.01),
    "exponential_decay_sgd": (lambda lr: optax.sgd(optax.exponential_decay(lr, transition_steps=2, decay_rate=0.5)), 0.1),
    "staircase_decay_sgd": (lambda lr: optax.sgd(optax.exponential_decay(lr, transition_steps=3, decay_rate=0.5, staircase=True)), 0.1),
    "polynomial_decay_sgd": (lambda lr: optax.sgd(optax.polynomial_schedule(lr, 0.01, power=2, transition_steps=5)), 0.1),
    "linear_decay_sgd": (lambda lr: optax.sgd(optax.linear_schedule(lr, 0.0, transition_steps=5, transition_begin=2)), 0.1),
    "cosine_decay_sgd": (lambda lr: optax.sgd(optax.cosine_decay_schedule(lr, decay_steps=6, alpha=0.1)), 0.1),
    "warmup_cosine_sgd": (lambda lr: optax.sgd(optax.join_schedules(
        [optax.linear_schedule(0.0, lr, 3), optax.cosine_decay_schedule(lr, decay_steps=4)], [3])), 0.1),
}


def tensors(tree):
    return {name: {"shape": list(value.shape), "values": [float(v) for v in np.asarray(value, np.float32).ravel()]}
            for name, value in tree.items()}


def main():
    rng = np.random.default_rng(20261202)
    initial = {name: rng.uniform(-1, 1, shape).astype(np.float32) for name, shape in SHAPES.items()}
    # Gradients that change sign and scale between steps (Yogi's sign, AdaBelief's surprise).
    gradients = [{name: (rng.normal(0, 1, shape) * (0.5 + step % 3)).astype(np.float32) for name, shape in SHAPES.items()}
                 for step in range(STEPS)]
    directory = os.path.join(ROOT, "Tests", "Conformance", "Cases", "optax")
    os.makedirs(directory, exist_ok=True)
    for name, (make, learning_rate) in OPTIMIZERS.items():
        optimizer = make(learning_rate)
        params = {k: jnp.asarray(v) for k, v in initial.items()}
        state = optimizer.init(params)
        trajectory = []
        for grads in gradients:
            updates, state = optimizer.update({k: jnp.asarray(v) for k, v in grads.items()}, state, params)
            params = optax.apply_updates(params, updates)
            trajectory.append(tensors(params))
        document = {
            "name": f"{name} trajectory recorded from optax",
            "source": f"optax {optax.__version__}, jax {jax.__version__}, scripts/record-optax.py",
            "optimizer": name,
            "learningRate": learning_rate,
            "parameters": tensors(initial),
            "gradients": [tensors(g) for g in gradients],
            "expected": trajectory,
        }
        with open(os.path.join(directory, f"{name}.json"), "w") as file:
            json.dump(document, file, indent=1, sort_keys=True)
            file.write("\n")
        print(f"recorded {name}")


# Axon's loss (Losses.<name>, mean over examples of a per-example value) → optax's per-element
# or per-example function, the options Axon is given, and how the targets are drawn.
def per_example(values):
    return values.mean(axis=-1) if values.ndim == 2 else values


LOSSES = {
    "categoricalCrossEntropy_logits": ("categoricalCrossEntropy", {"fromLogits": True}, "onehot",
                                       lambda y, p: optax.softmax_cross_entropy(p, y)),
    "categoricalCrossEntropy_sparse": ("categoricalCrossEntropy", {"fromLogits": True, "sparse": True}, "indices",
                                       lambda y, p: optax.softmax_cross_entropy_with_integer_labels(p, y)),
    "categoricalCrossEntropy_smoothed": ("categoricalCrossEntropy", {"fromLogits": True, "labelSmoothing": 0.1}, "onehot",
                                         lambda y, p: optax.softmax_cross_entropy(p, optax.smooth_labels(y, 0.1))),
    "binaryCrossEntropy_logits": ("binaryCrossEntropy", {"fromLogits": True}, "binary",
                                  lambda y, p: per_example(optax.sigmoid_binary_cross_entropy(p, y))),
    "meanSquaredError": ("meanSquaredError", {}, "real", lambda y, p: per_example(optax.squared_error(p, y))),
    "huber": ("huber", {"delta": 0.5}, "real", lambda y, p: per_example(optax.huber_loss(p, y, delta=0.5))),
    "logCosh": ("logCosh", {}, "real", lambda y, p: per_example(optax.log_cosh(p, y))),
    "hinge": ("hinge", {}, "signs", lambda y, p: per_example(optax.hinge_loss(p, y))),
    "klDivergence": ("klDivergence", {}, "distribution",
                     lambda y, p: optax.kl_divergence(jnp.log(p), y)),
    "cosineSimilarity": ("cosineSimilarity", {}, "real", lambda y, p: -optax.cosine_similarity(p, y)),
}


def record_losses(directory):
    rng = np.random.default_rng(7)
    shape = (4, 5)
    for file_name, (loss, options, targets, function) in LOSSES.items():
        logits = rng.normal(0, 1.5, shape).astype(np.float32)
        if targets == "onehot":
            y = np.eye(shape[1], dtype=np.float32)[rng.integers(0, shape[1], shape[0])]
        elif targets == "indices":
            y = rng.integers(0, shape[1], shape[0]).astype(np.int32)
        elif targets == "binary":
            y = rng.integers(0, 2, shape).astype(np.float32)
        elif targets == "signs":
            y = np.where(rng.random(shape) < 0.5, -1.0, 1.0).astype(np.float32)
        elif targets == "distribution":
            y = np.asarray(jax.nn.softmax(rng.normal(0, 1, shape).astype(np.float32)))
        else:
            y = rng.normal(0, 1, shape).astype(np.float32)
        # KL divergence compares distributions, so its predictions are probabilities too.
        prediction = np.asarray(jax.nn.softmax(logits)) if targets == "distribution" else logits
        value, gradient = jax.value_and_grad(lambda p: jnp.mean(function(jnp.asarray(y), p)))(jnp.asarray(prediction))
        document = {
            "name": f"loss {file_name} recorded from optax",
            "source": f"optax {optax.__version__}, jax {jax.__version__}, scripts/record-optax.py",
            "loss": loss,
            "options": options,
            "yTrue": {"shape": list(y.shape), "dtype": "int32" if y.dtype == np.int32 else "float32",
                      "values": [float(v) for v in y.ravel()]},
            "yPred": tensors({"p": prediction})["p"],
            "value": float(value),
            "gradient": tensors({"g": gradient})["g"],
        }
        with open(os.path.join(directory, f"loss_{file_name}.json"), "w") as file:
            json.dump(document, file, indent=1, sort_keys=True)
            file.write("\n")
        print(f"recorded loss {file_name}")


if __name__ == "__main__":
    main()
    record_losses(os.path.join(ROOT, "Tests", "Conformance", "Cases", "optax"))
