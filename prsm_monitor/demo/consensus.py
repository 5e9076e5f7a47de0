"""Consensus on model-registry updates: propose, vote, commit at a 2/3 quorum or reject.

The proposer floods a ``propose`` (a registry update: a model, a node, a new version) with
the quorum it needs: two thirds, rounded up, of the nodes the membership service lists as
running when the round starts. Every node that receives it checks the update and sends a
``vote`` back along the reverse path of the flood. The proposer counts its own vote and the
accepting ones; at quorum it commits and floods a ``commit`` (every node applies it to its
registry). Without quorum within ``consensus_timeout`` seconds the proposal is rejected.
A partition that leaves no side with two thirds of the running nodes therefore rejects.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from ..sources.prsm.report import ConsensusRecord
from .models import CATALOG

CATALOG_NAMES = frozenset(s.name for s in CATALOG)


def quorum(live_nodes: int) -> int:
    """Votes needed out of ``live_nodes``: at least two thirds, at least one."""
    return max(1, -(-2 * live_nodes // 3))


@dataclass
class Proposal:
    id: str
    started: float  # epoch
    t0: float  # loop time
    quorum: int
    live_nodes: int
    value: dict
    votes: set[str] = field(default_factory=set)
    outcome: str = "pending"
    time_to_commit_ms: float | None = None
    timer: object = None

    def record(self, proposer: str) -> ConsensusRecord:
        return ConsensusRecord(
            self.id,
            proposer,
            self.started,
            self.quorum,
            self.live_nodes,
            len(self.votes),
            self.outcome,
            self.time_to_commit_ms,
        )


def valid_update(value) -> bool:
    return (
        isinstance(value, dict)
        and value.get("model") in CATALOG_NAMES
        and isinstance(value.get("node"), str)
        and isinstance(value.get("version"), int)
        and value["version"] >= 1
    )


class Consensus:
    """A node's part in consensus: proposer of its own rounds, voter in the others'."""

    def __init__(self, node):
        self.node = node
        self.pending: dict[str, Proposal] = {}
        self.history: deque[Proposal] = deque(maxlen=node.config.history)
        self.registry: dict[str, int] = {}  # model -> committed version
        self.proposals = self.votes_cast = self.commits = self.rejections = self.commits_applied = 0
        self.commit_time_ms_sum = 0.0

    def propose(self) -> str:
        """Start a round: propose the next version of one of this node's models."""
        node = self.node
        live = len(node.directory.running)
        model = node.rng.choice(sorted(node.models)) if node.models else node.rng.choice(sorted(CATALOG_NAMES))
        value = {"op": "register", "model": model, "node": node.name, "version": self.registry.get(model, 0) + 1}
        proposal = Proposal(node.next_id("p"), time.time(), node.loop.time(), quorum(live), live, value)
        proposal.votes.add(node.name)
        proposal.timer = node.loop.call_later(node.config.consensus_timeout, self._expire, proposal.id)
        self.pending[proposal.id] = proposal
        self.history.append(proposal)
        self.proposals += 1
        node.flood("propose", {"value": value, "quorum": proposal.quorum}, proposal.id)
        self._check(proposal)
        return proposal.id

    def on_propose(self, message: dict, link) -> None:
        self.votes_cast += 1
        accept = valid_update(message["value"])
        vote = {"type": "vote", "proposal": message["id"], "voter": self.node.name, "accept": accept}
        self.node.send(link.conn, vote)

    def on_vote(self, message: dict) -> None:
        proposal_id = message["proposal"]
        proposal = self.pending.get(proposal_id)
        if proposal is not None:
            if message["accept"] is True:
                proposal.votes.add(str(message["voter"]))
                self._check(proposal)
            return
        parent = self.node.floods.parent(proposal_id)
        if parent:  # not ours: pass it on towards the proposer
            self.node.send_to(parent, message)

    def on_commit(self, message: dict) -> None:
        value = message.get("value")
        if valid_update(value):
            self._apply(value)

    def _check(self, proposal: Proposal) -> None:
        if proposal.outcome != "pending" or len(proposal.votes) < proposal.quorum:
            return
        node = self.node
        proposal.outcome = "committed"
        proposal.time_to_commit_ms = (node.loop.time() - proposal.t0) * 1000.0
        proposal.timer.cancel()
        del self.pending[proposal.id]
        self.commits += 1
        self.commit_time_ms_sum += proposal.time_to_commit_ms
        self._apply(proposal.value)
        node.flood("commit", {"proposal": proposal.id, "value": proposal.value})

    def _expire(self, proposal_id: str) -> None:
        proposal = self.pending.pop(proposal_id, None)
        if proposal is not None:
            proposal.outcome = "rejected"
            self.rejections += 1

    def _apply(self, value: dict) -> None:
        self.commits_applied += 1
        self.registry[value["model"]] = max(self.registry.get(value["model"], 0), value["version"])

    def records(self) -> tuple[ConsensusRecord, ...]:
        return tuple(p.record(self.node.name) for p in self.history)

    def close(self) -> None:
        for proposal in self.pending.values():
            proposal.timer.cancel()
        self.pending.clear()
