"""The same siamese LSTM shapes in PyTorch, timed the way the TypeScript benches time Doppel, so
that ratios to PyTorch are measured in the same run instead of typed in.

  python3 pytorch_peer.py train    # pairs/s: LSTM(128) last state, Euclidean, contrastive, Adam
  python3 pytorch_peer.py encode   # questions/s: the same tower, inference, batch 1024

Prints one JSON object. B, T, E, H and the vocabulary size come from the environment
(DOPPEL_PEER_*), set by the calling bench so both sides run one shape.
"""
import json
import os
import sys
import time

import torch

B = int(os.environ.get("DOPPEL_PEER_B", 128))
T = int(os.environ.get("DOPPEL_PEER_T", 24))
E = int(os.environ.get("DOPPEL_PEER_E", 128))
H = int(os.environ.get("DOPPEL_PEER_H", 128))
V = int(os.environ.get("DOPPEL_PEER_VOCAB", 20000))
THREADS = int(os.environ.get("DOPPEL_PEER_THREADS", 1))
torch.set_num_threads(THREADS)
torch.manual_seed(1)


class Tower(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = torch.nn.Embedding(V, E)
        self.lstm = torch.nn.LSTM(E, H, batch_first=True)

    def forward(self, ids):
        _, (h, _) = self.lstm(self.embedding(ids))
        return h[-1]


def train(steps=20):
    tower = Tower()
    optimizer = torch.optim.Adam(tower.parameters(), lr=1e-3)
    ids = torch.randint(1, V, (2 * B, T))
    labels = (torch.arange(B) % 2).float()

    def step():
        optimizer.zero_grad()
        v = tower(ids)
        energy = torch.norm(v[:B] - v[B:], dim=1)
        loss = (labels * energy**2 + (1 - labels) * torch.clamp(1.0 - energy, min=0) ** 2).mean()
        loss.backward()
        optimizer.step()

    step()
    started = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * B / (time.perf_counter() - started)


@torch.no_grad()
def encode(count=8192, batch=1024):
    tower = Tower().eval()
    ids = torch.randint(1, V, (count, T))
    tower(ids[:batch])
    started = time.perf_counter()
    for i in range(0, count, batch):
        tower(ids[i : i + batch])
    return count / (time.perf_counter() - started)


if __name__ == "__main__":
    mode = sys.argv[1]
    value = train() if mode == "train" else encode()
    print(json.dumps({"mode": mode, "value": value, "torch": torch.__version__, "threads": THREADS, "B": B, "T": T, "E": E, "H": H, "vocab": V}))
