"""The Swift benchmark's workloads in JAX (with optax) and, when it is installed, PyTorch, each
written as an expert user of that framework would: JAX steps are `jit`-compiled with the
parameter and optimizer buffers donated, data placed on the device once and the dropout key
derived inside the step; PyTorch runs the CNN in `channels_last`, inference under
`torch.inference_mode`, and, as a column of its own ("pytorch compiled"), the training steps and
inference under `torch.compile` where it compiles on this machine.

Run by scripts/bench.sh inside a virtualenv; writes the same JSON schema as the Swift side:
{"results": [{"backend", "device", "measurements": [{"workload", "value", "unit", "higherIsBetter"}]}]}.
Thread counts follow AXON_BENCH_THREADS (default 2) for every framework. Times are the median
call, or with --throughput (the contended runs) all timed calls' wall time over their count, as
on the Swift side.
"""
import json
import os
import resource
import subprocess
import sys
import time

THREADS = int(os.environ.get("AXON_BENCH_THREADS", "2"))
QUICK = "--quick" in sys.argv
THROUGHPUT = "--throughput" in sys.argv


def typical(times):
    """The median call, or under --throughput the mean: beside competing work the scheduler's
    slices lost fall on a few calls, which the median leaves out and a user's run does not."""
    return sum(times) / len(times) if THROUGHPUT else sorted(times)[len(times) // 2]


def typical_seconds(body, repeats):
    body()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        body()
        times.append(time.perf_counter() - start)
    return typical(times)


def measurement(workload, value, unit, higher=True):
    return {"workload": workload, "value": value, "unit": unit, "higherIsBetter": higher}


def sizes():
    return [64, 128] if QUICK else [512, 1024, 2048]


def jax_suite(rss_only=False):
    os.environ["XLA_FLAGS"] = f"--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads={THREADS}"
    import jax
    import jax.numpy as jnp
    import optax

    key = jax.random.PRNGKey(0)

    def mlp_params():
        k1, k2 = jax.random.split(key)
        return {"w1": jax.random.normal(k1, (784, 128)) * 0.05, "b1": jnp.zeros(128),
                "w2": jax.random.normal(k2, (128, 10)) * 0.05, "b2": jnp.zeros(10)}

    def mlp_forward(p, x):
        return jax.nn.relu(x @ p["w1"] + p["b1"]) @ p["w2"] + p["b2"]

    def train_rate(params, forward, optimizer, x, y, steps):
        state = optimizer.init(params)
        x, y = jax.device_put(x), jax.device_put(y)

        # Parameters and optimizer state are donated (updated in place); the step counter lives
        # on the device and the dropout key is folded from it inside the compiled step.
        def step(p, s, i, x, y):
            def loss(p):
                return optax.softmax_cross_entropy_with_integer_labels(forward(p, x, jax.random.fold_in(key, i)), y).mean()
            value, grads = jax.value_and_grad(loss)(p)
            updates, s = optimizer.update(grads, s, p)
            return optax.apply_updates(p, updates), s, i + 1, value

        step = jax.jit(step, donate_argnums=(0, 1, 2))
        p, s, i = params, state, jnp.zeros((), jnp.uint32)
        times = []
        for _ in range(steps + 1):
            start = time.perf_counter()
            p, s, i, value = step(p, s, i, x, y)
            value.block_until_ready()
            times.append(time.perf_counter() - start)
        return 1 / typical(times[1:])

    mlp_batch = 16 if QUICK else 128
    x = jax.random.uniform(key, (mlp_batch, 784))
    y = jnp.arange(mlp_batch) % 10
    mlp_rate = train_rate(mlp_params(), lambda p, x, k: mlp_forward(p, x), optax.adam(1e-3), x, y, 3 if QUICK else 300)
    if rss_only:
        return None
    results = []
    for n in sizes():
        a = jax.random.uniform(key, (n, n))
        b = jax.random.uniform(key, (n, n))
        f = jax.jit(lambda a, b: a @ b)
        seconds = typical_seconds(lambda: f(a, b).block_until_ready(), 3 if QUICK else 7)
        results.append(measurement(f"matmul {n}³", 2 * n**3 / seconds / 1e9, "GFLOPS"))
    batch = 4 if QUICK else 64
    xi = jax.random.uniform(key, (batch, 28, 28, 32))
    w = jax.random.uniform(key, (3, 3, 32, 64))
    conv = jax.jit(lambda x, w: jax.lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")))
    seconds = typical_seconds(lambda: conv(xi, w).block_until_ready(), 2 if QUICK else 5)
    results.append(measurement(f"conv forward N{batch} 28² 32→64 3×3", 2.0 * batch * 28 * 28 * 64 * 9 * 32 / seconds / 1e9, "GFLOPS"))
    results.append(measurement(f"MLP 784-128-10 training step, batch {mlp_batch}, Adam", mlp_rate, "steps/s"))

    def conv_bn_relu_pool(x, w, gamma, beta):
        y = jax.lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
        mean = y.mean(axis=(0, 1, 2))
        var = y.var(axis=(0, 1, 2))
        y = jax.nn.relu((y - mean) / jnp.sqrt(var + 1e-5) * gamma + beta)
        return jax.lax.reduce_window(y, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")

    def cnn_forward(p, x, k):
        y = conv_bn_relu_pool(x, p["c1"], p["g1"], p["b1"])
        y = conv_bn_relu_pool(y, p["c2"], p["g2"], p["b2"]).reshape(x.shape[0], -1)
        keep = jax.random.bernoulli(k, 0.75, y.shape)
        return (jnp.where(keep, y / 0.75, 0)) @ p["w"] + p["bias"]

    cnn_batch = 4 if QUICK else 64
    cnn_params = {"c1": jax.random.normal(key, (3, 3, 1, 32)) * 0.1, "g1": jnp.ones(32), "b1": jnp.zeros(32),
                  "c2": jax.random.normal(key, (3, 3, 32, 64)) * 0.05, "g2": jnp.ones(64), "b2": jnp.zeros(64),
                  "w": jax.random.normal(key, (7 * 7 * 64, 10)) * 0.01, "bias": jnp.zeros(10)}
    xc = jax.random.uniform(key, (cnn_batch, 28, 28, 1))
    yc = jnp.arange(cnn_batch) % 10
    results.append(measurement(f"CNN training step, batch {cnn_batch}, SGD momentum",
                               train_rate(cnn_params, cnn_forward, optax.sgd(0.01, momentum=0.9), xc, yc, 2 if QUICK else 30), "steps/s"))
    def lstm_forward(p, x, k):
        def cell(carry, xt):
            h, c = carry
            z = xt @ p["w"] + h @ p["u"] + p["b"]
            i, f, g, o = jnp.split(z, 4, axis=-1)
            c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
            h = jax.nn.sigmoid(o) * jnp.tanh(c)
            return (h, c), None
        zeros = jnp.zeros((x.shape[0], 128))
        (h, _), _ = jax.lax.scan(cell, (zeros, zeros), jnp.swapaxes(x, 0, 1))
        return h @ p["dense"] + p["dense_bias"]

    lstm_params = {"w": jax.random.normal(key, (32, 512)) * 0.1, "u": jax.random.normal(key, (128, 512)) * 0.1, "b": jnp.zeros(512),
                   "dense": jax.random.normal(key, (128, 10)) * 0.1, "dense_bias": jnp.zeros(10)}
    xl, yl = jax.random.uniform(key, (32, 50, 32)), jnp.arange(32) % 10
    results.append(measurement("LSTM 32→128, sequence 50, batch 32 training step, Adam",
                               train_rate(lstm_params, lstm_forward, optax.adam(1e-3), xl, yl, 2 if QUICK else 30), "steps/s"))
    inference_batch = 32 if QUICK else 1024
    xi = jax.random.uniform(key, (inference_batch, 784))
    forward = jax.jit(mlp_forward)
    params = mlp_params()
    seconds = typical_seconds(lambda: forward(params, xi).block_until_ready(), 3 if QUICK else 300)
    results.append(measurement(f"MLP inference, batch {inference_batch}", 1 / seconds, "batches/s"))
    gelu_size = 64 if QUICK else 1024
    xg = jax.random.uniform(key, (gelu_size, gelu_size), minval=-3, maxval=3)
    jitted_gelu = jax.jit(lambda x: gelu(x, jnp.tanh))
    seconds = typical_seconds(lambda: jitted_gelu(xg).block_until_ready(), 3 if QUICK else 50)
    results.append(measurement(gelu_name(gelu_size), seconds * 1e3, "ms", False))
    a1, b1 = jnp.ones(1), jnp.ones(1)
    repeats = 100 if QUICK else 5000
    (a1 + b1).block_until_ready()
    start = time.perf_counter()
    for _ in range(repeats):
        c = a1 + b1
    c.block_until_ready()
    results.append(measurement("tiny-op dispatch (1-element add)", (time.perf_counter() - start) / repeats * 1e6, "µs", False))
    return {"backend": "jax", "device": f"jax {jax.__version__} cpu, {THREADS} threads", "measurements": results}


def torch_suite(rss_only=False, compiled=False):
    import torch

    torch.set_num_threads(THREADS)
    mlp_batch = 16 if QUICK else 128
    mlp = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    # torch.compile's warm-up steps compile; the timed ones replay.
    warmup = 3 if compiled else 1

    def train_rate(model, optimizer, x, y, steps):
        def step():
            optimizer.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
        if compiled:
            step = torch.compile(step)
        times = []
        for _ in range(steps + warmup):
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
        return 1 / typical(times[warmup:])

    x = torch.rand(mlp_batch, 784)
    y = torch.arange(mlp_batch) % 10
    mlp_rate = train_rate(mlp, torch.optim.Adam(mlp.parameters(), 1e-3), x, y, 3 if QUICK else 300)
    if rss_only:
        return None
    results = []
    if compiled:
        return compiled_torch_results(torch, mlp, mlp_batch, mlp_rate, train_rate)
    for n in sizes():
        a, b = torch.rand(n, n), torch.rand(n, n)
        seconds = typical_seconds(lambda: a @ b, 3 if QUICK else 7)
        results.append(measurement(f"matmul {n}³", 2 * n**3 / seconds / 1e9, "GFLOPS"))
    batch = 4 if QUICK else 64
    xi = torch.rand(batch, 32, 28, 28).to(memory_format=torch.channels_last)
    conv = torch.nn.Conv2d(32, 64, 3, padding=1, bias=False).to(memory_format=torch.channels_last)
    with torch.no_grad():
        seconds = typical_seconds(lambda: conv(xi), 2 if QUICK else 5)
    results.append(measurement(f"conv forward N{batch} 28² 32→64 3×3", 2.0 * batch * 28 * 28 * 64 * 9 * 32 / seconds / 1e9, "GFLOPS"))
    results.append(measurement(f"MLP 784-128-10 training step, batch {mlp_batch}, Adam", mlp_rate, "steps/s"))
    cnn_batch = 4 if QUICK else 64
    cnn = cnn_model(torch)
    xc, yc = torch.rand(cnn_batch, 1, 28, 28).to(memory_format=torch.channels_last), torch.arange(cnn_batch) % 10
    results.append(measurement(f"CNN training step, batch {cnn_batch}, SGD momentum",
                               train_rate(cnn, torch.optim.SGD(cnn.parameters(), 0.01, momentum=0.9), xc, yc, 2 if QUICK else 30), "steps/s"))
    class LSTMClassifier(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(32, 128, batch_first=True)
            self.dense = torch.nn.Linear(128, 10)

        def forward(self, x):
            _, (h, _) = self.lstm(x)
            return self.dense(h[0])

    lstm = LSTMClassifier()
    xl, yl = torch.rand(32, 50, 32), torch.arange(32) % 10
    results.append(measurement("LSTM 32→128, sequence 50, batch 32 training step, Adam",
                               train_rate(lstm, torch.optim.Adam(lstm.parameters(), 1e-3), xl, yl, 2 if QUICK else 30), "steps/s"))
    inference_batch = 32 if QUICK else 1024
    xi = torch.rand(inference_batch, 784)
    with torch.inference_mode():
        seconds = typical_seconds(lambda: mlp(xi), 3 if QUICK else 300)
    results.append(measurement(f"MLP inference, batch {inference_batch}", 1 / seconds, "batches/s"))
    results.append(torch_gelu(torch, lambda x: gelu(x, torch.tanh)))
    a1, b1 = torch.ones(1), torch.ones(1)
    repeats = 100 if QUICK else 20000
    start = time.perf_counter()
    for _ in range(repeats):
        a1 + b1
    results.append(measurement("tiny-op dispatch (1-element add)", (time.perf_counter() - start) / repeats * 1e6, "µs", False))
    return {"backend": "pytorch", "device": f"pytorch {torch.__version__} cpu, {THREADS} threads", "measurements": results}


def gelu(x, tanh):
    """The tanh approximation of GELU as nine elementwise operations, as the Swift row writes it."""
    return (tanh((x * x * x * 0.044715 + x) * 0.7978846) + 1) * x * 0.5


def gelu_name(size):
    return f"GELU (tanh) of {size}×{size}, 9 elementwise ops"


def torch_gelu(torch, function):
    size = 64 if QUICK else 1024
    x = torch.rand(size, size) * 6 - 3
    with torch.inference_mode():
        function(x)  # torch.compile compiles on the first call
        seconds = typical_seconds(lambda: function(x), 3 if QUICK else 50)
    return measurement(gelu_name(size), seconds * 1e3, "ms", False)


def cnn_model(torch):
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3, padding=1), torch.nn.BatchNorm2d(32), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3, padding=1), torch.nn.BatchNorm2d(64), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Dropout(0.25), torch.nn.Linear(7 * 7 * 64, 10)).to(memory_format=torch.channels_last)


def compiled_torch_results(torch, mlp, mlp_batch, mlp_rate, train_rate):
    """The training steps and MLP inference under torch.compile (inductor's C++ kernels)."""
    results = [measurement(f"MLP 784-128-10 training step, batch {mlp_batch}, Adam", mlp_rate, "steps/s")]
    cnn_batch = 4 if QUICK else 64
    cnn = cnn_model(torch)
    xc, yc = torch.rand(cnn_batch, 1, 28, 28).to(memory_format=torch.channels_last), torch.arange(cnn_batch) % 10
    results.append(measurement(f"CNN training step, batch {cnn_batch}, SGD momentum",
                               train_rate(cnn, torch.optim.SGD(cnn.parameters(), 0.01, momentum=0.9), xc, yc, 2 if QUICK else 30), "steps/s"))
    inference_batch = 32 if QUICK else 1024
    xi = torch.rand(inference_batch, 784)
    forward = torch.compile(mlp)
    with torch.inference_mode():
        for _ in range(2):
            forward(xi)
        seconds = typical_seconds(lambda: forward(xi), 3 if QUICK else 300)
    results.append(measurement(f"MLP inference, batch {inference_batch}", 1 / seconds, "batches/s"))
    results.append(torch_gelu(torch, torch.compile(lambda x: gelu(x, torch.tanh))))
    return {"backend": "pytorch compiled", "device": f"pytorch {torch.__version__} cpu, torch.compile, {THREADS} threads", "measurements": results}


SUITES = {"jax": jax_suite, "pytorch": torch_suite, "pytorch compiled": lambda rss_only=False: torch_suite(rss_only, compiled=True)}


def peak_rss(name):
    """Peak RSS in MB of a fresh process that trains the MLP with `name`."""
    output = subprocess.run([sys.executable, __file__, "--rss", name] + (["--quick"] if QUICK else []),
                            capture_output=True, text=True)
    try:
        return float(output.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None


def own_peak_rss_mb():
    """This process's peak RSS: VmHWM, because ru_maxrss of a spawned child also counts its
    parent's memory from before exec."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    if "--rss" in sys.argv:
        SUITES[sys.argv[sys.argv.index("--rss") + 1]](rss_only=True)
        print(own_peak_rss_mb())
        return
    output = sys.argv[sys.argv.index("--output") + 1] if "--output" in sys.argv else "peers.json"
    results = []
    for name, suite in SUITES.items():
        try:
            result = suite()
        except ImportError as error:
            print(f"{name}: not installed ({error}); left out", file=sys.stderr)
            continue
        except Exception as error:  # torch.compile needs a working C++ toolchain for inductor
            print(f"{name}: failed on this machine ({type(error).__name__}: {error}); left out", file=sys.stderr)
            continue
        rss = peak_rss(name)
        if rss is not None:
            result["measurements"].append(measurement("MLP training process peak RSS", rss, "MB", False))
        for m in result["measurements"]:
            print(f"{name}: {m['workload']}: {m['value']:.4g} {m['unit']}")
        results.append(result)
    with open(output, "w") as file:
        json.dump({"results": results}, file, indent=2)


if __name__ == "__main__":
    main()
