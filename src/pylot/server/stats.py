"""Live request statistics for /v1/status and Prometheus metrics for /metrics."""

from __future__ import annotations

import threading
import time
from collections import deque

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Stats:
    """Rolling latency percentiles, request rate and generation speed."""

    def __init__(self, window: int = 500) -> None:
        self._lock = threading.Lock()
        self._latencies: deque[float] = deque(maxlen=window)
        self._times: deque[float] = deque(maxlen=10_000)
        self._tokens = 0
        self._gen_seconds = 0.0
        self.requests_total = 0
        self.registry = CollectorRegistry()
        self.m_requests = Counter(
            "pylot_requests", "Generation requests", ["endpoint", "outcome"], registry=self.registry
        )
        self.m_latency = Histogram(
            "pylot_request_seconds",
            "Generation request latency",
            ["endpoint"],
            registry=self.registry,
            buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30),
        )
        self.m_tokens = Counter("pylot_generated_tokens", "Tokens generated", registry=self.registry)
        self.m_prompt_tokens = Counter("pylot_prompt_tokens", "Prompt tokens evaluated", registry=self.registry)
        self.m_queue = Gauge("pylot_queue_depth", "Generations running or waiting", registry=self.registry)
        self.m_cache = Counter("pylot_cache", "Result cache lookups", ["result"], registry=self.registry)

    def record(self, endpoint: str, seconds: float, prompt_tokens: int, tokens: int, outcome: str = "ok") -> None:
        with self._lock:
            self.requests_total += 1
            self._latencies.append(seconds)
            self._times.append(time.monotonic())
            if tokens and outcome == "ok":
                self._tokens += tokens
                self._gen_seconds += seconds
        self.m_requests.labels(endpoint, outcome).inc()
        self.m_latency.labels(endpoint).observe(seconds)
        self.m_tokens.inc(tokens)
        self.m_prompt_tokens.inc(prompt_tokens)

    def latency_ms(self) -> dict[str, float | None]:
        with self._lock:
            values = sorted(self._latencies)
        if not values:
            return {"p50": None, "p95": None}

        def pct(p: float) -> float:
            return round(values[min(len(values) - 1, int(p * len(values)))] * 1000, 1)

        return {"p50": pct(0.50), "p95": pct(0.95)}

    def requests_per_minute(self) -> int:
        cutoff = time.monotonic() - 60
        with self._lock:
            return sum(1 for t in self._times if t >= cutoff)

    def tokens_per_second(self) -> float:
        with self._lock:
            return round(self._tokens / self._gen_seconds, 2) if self._gen_seconds else 0.0
