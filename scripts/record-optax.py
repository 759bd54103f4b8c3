#!/usr/bin/env python3
"""Records optimizer trajectories from optax, the conformance suite's independent expectation
for every named optimizer that has an optax counterpart.

    scripts/record-optax.py          # creates .build/optax-venv (jax[cpu], optax) on first use

Writes Tests/Conformance/Cases/optax/<name>.json: the initial parameters, a sequence of
gradients, and the parameters optax produces after each step (float32, as JAX computes by
default). The suite (OptimizerTrajectories.swift) replays the gradients through Axon's
optimizer of the same name and default hyper-parameters on every backend.
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


if __name__ == "__main__":
    main()
