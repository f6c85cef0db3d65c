"""Structures as objects: Definition 2.2 checked on finite samples.

Source: L. Thesing, V. Antun, A. C. Hansen, "What do AI algorithms actually
learn? On false structures in deep learning", arXiv:1906.01478 (2019),
Definition 2.2 and Remarks 2.3, 2.4.

- A *structure* (f, L) on a set M is a list of predicates
  L = [alpha_0, ..., alpha_N] whose supports are disjoint and cover M, with
  the labelling f(x) = j iff alpha_j(x) is true.
- (g, L') with L' = [beta_0, ..., beta_N] is a *false structure* for (f, L)
  relative to a training set T, a proper subset of M, when beta_j != alpha_j
  for every j and
  (1) g(x) = f(x) for every x in T, and
  (2) C = {x in M \\ T : f(x) != g(x)} is not empty.
- It is a *partial* false structure when beta_j != alpha_j for at least two j
  but not for all.
- The *severity* of a false structure under a probability measure P on M is
  P(C) (Remark 2.4).

Every statement is decided on finite samples of T and of M \\ T, so "holds"
means "holds on the samples". A sample can witness that a condition fails,
or that C is not empty, but it cannot prove that a condition holds on all of M.
Predicates and labellings are vectorised: they take a batch of shape
(n, ...) and return an array of shape (n,) (bool for predicates, int for
labellings). Samplers are callables ``(n, rng) -> samples`` of shape (n, ...).
"""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

Predicate = Callable[[np.ndarray], np.ndarray]
Labelling = Callable[[np.ndarray], np.ndarray]
Sampler = Callable[[int, np.random.Generator], np.ndarray]

VERDICT_FALSE = "false structure"
VERDICT_PARTIAL = "partial false structure"
VERDICT_NONE = "not a false structure"
NO_CLASS = -1  # label of a sample for which no single predicate is true
DEFAULT_CHUNK = 10_000


@dataclass(frozen=True, eq=False)
class Structure:
    """A labelling function with one named predicate per class.

    ``predicates`` is a sequence of (name, predicate) pairs: the j-th pair is
    the predicate of class j. Without ``labelling`` the label of a sample is
    the index of its one true predicate (``NO_CLASS`` where none or several
    are true), which is Definition 2.2's f(x) = j iff alpha_j(x). With
    ``labelling``, that function gives the labels and the checks count the
    samples on which it disagrees with the predicates.
    """

    name: str
    predicates: Sequence[tuple[str, Predicate]]
    labelling: Labelling | None = None

    def __post_init__(self):
        predicates = tuple((str(name), fn) for name, fn in self.predicates)
        if len(predicates) < 2:
            raise ValueError(
                f"`predicates` of structure {self.name!r} must name at least 2 "
                f"classes, got {len(predicates)}"
            )
        object.__setattr__(self, "predicates", predicates)

    @property
    def class_names(self) -> tuple[str, ...]:
        """Predicate names, class 0 first."""
        return tuple(name for name, _ in self.predicates)

    @property
    def n_classes(self) -> int:
        return len(self.predicates)

    def truth_table(self, x: np.ndarray) -> np.ndarray:
        """Evaluate every predicate on a batch: bool array of shape (n, n_classes)."""
        columns = [_evaluate(self.name, name, fn, x) for name, fn in self.predicates]
        return np.stack(columns, axis=1)

    def label(self, x: np.ndarray) -> np.ndarray:
        """Return the labels of a batch, int array of shape (n,)."""
        if self.labelling is not None:
            return _evaluate(self.name, "labelling", self.labelling, x, np.int64)
        return labels_from_truth(self.truth_table(x))


def _evaluate(structure: str, name: str, fn, x: np.ndarray, dtype=bool) -> np.ndarray:
    """Call a predicate or labelling and check that it returns one value per sample."""
    values = np.asarray(fn(x))
    if values.shape != (len(x),):
        raise ValueError(
            f"{name!r} of structure {structure!r} must return shape ({len(x)},) "
            f"for a batch of {len(x)} samples, got shape {values.shape}"
        )
    if dtype is bool and values.dtype != np.bool_:
        raise ValueError(
            f"predicate {name!r} of structure {structure!r} must return a bool "
            f"array, got dtype {values.dtype}"
        )
    return values.astype(dtype)


def labels_from_truth(truth: np.ndarray) -> np.ndarray:
    """Return the index of the one true predicate per row, NO_CLASS if not one."""
    labels = np.argmax(truth, axis=1).astype(np.int64)
    return np.where(truth.sum(axis=1) == 1, labels, NO_CLASS)


@dataclass(frozen=True, eq=False)
class PartitionCheck:
    """Whether a structure's predicates partition the samples (Remark 2.3).

    ``overlaps`` counts samples on which several predicates are true,
    ``gaps`` samples on which none is, and ``labelling_mismatches`` samples
    with exactly one true predicate whose label is another class.
    """

    structure: str
    n_samples: int
    overlaps: int
    gaps: int
    labelling_mismatches: int
    overlap_witnesses: np.ndarray
    gap_witnesses: np.ndarray

    @property
    def holds(self) -> bool:
        """True when every sample satisfies exactly one predicate, as labelled."""
        return self.overlaps == 0 and self.gaps == 0 and self.labelling_mismatches == 0

    def summary(self) -> str:
        state = "disjoint and covering" if self.holds else "NOT a partition"
        return (
            f"predicates of {self.structure!r}: {state} on {self.n_samples} samples "
            f"({self.overlaps} overlaps, {self.gaps} gaps, "
            f"{self.labelling_mismatches} labelling mismatches)"
        )


@dataclass(frozen=True, eq=False)
class FalseStructureReport:
    """Definition 2.2 decided on samples of T and of M \\ T.

    Witness arrays hold at most ``n_witnesses`` samples each, in sample order:
    ``c_witnesses`` are samples of C (condition 2), ``train_mismatch_witnesses``
    samples of T with f != g (violations of condition 1).
    ``predicate_differences[j]`` counts the samples with beta_j != alpha_j.
    """

    original: str
    candidate: str
    class_names: tuple[tuple[str, str], ...]
    n_train: int
    n_outside: int
    n_outside_in_train: int
    train_mismatches: int
    train_mismatch_witnesses: np.ndarray
    c_count: int
    c_witnesses: np.ndarray
    predicate_differences: tuple[int, ...]
    original_partition: PartitionCheck
    candidate_partition: PartitionCheck

    @property
    def condition_1(self) -> bool:
        """g = f on every sample of T."""
        return self.train_mismatches == 0

    @property
    def condition_2(self) -> bool:
        """Some sample of M \\ T lies in C."""
        return self.c_count > 0

    @property
    def differing_classes(self) -> tuple[int, ...]:
        """Classes j with beta_j != alpha_j on some sample."""
        return tuple(j for j, n in enumerate(self.predicate_differences) if n > 0)

    @property
    def verdict(self) -> str:
        """One of VERDICT_FALSE, VERDICT_PARTIAL, VERDICT_NONE."""
        if self.reasons:
            return VERDICT_NONE
        if len(self.differing_classes) == len(self.predicate_differences):
            return VERDICT_FALSE
        return VERDICT_PARTIAL

    @property
    def reasons(self) -> tuple[str, ...]:
        """Why the candidate is not a (partial) false structure; empty otherwise."""
        reasons = []
        if not self.original_partition.holds:
            reasons.append(f"predicates of {self.original!r} are not a partition")
        if not self.candidate_partition.holds:
            reasons.append(f"predicates of {self.candidate!r} are not a partition")
        if not self.condition_1:
            reasons.append(f"g != f on {self.train_mismatches} samples of T")
        if not self.condition_2:
            reasons.append("no sample of M \\ T lies in C")
        if len(self.differing_classes) < 2:
            reasons.append(
                f"beta_j != alpha_j for {len(self.differing_classes)} classes, "
                "at least 2 needed"
            )
        return tuple(reasons)

    def summary(self, describe: Callable[[np.ndarray], str] | None = None) -> str:
        """Describe the verdict, each condition with its counts, and the witnesses.

        ``describe`` turns one witness into text; by default its values are
        printed, which suits vectors better than images.
        """
        lines = [
            f"{self.candidate!r} vs original {self.original!r}: {self.verdict}",
            f"  (1) g = f on T: {_yes(self.condition_1)} "
            f"({self.train_mismatches} of {self.n_train} samples of T differ)",
            f"  (2) C not empty: {_yes(self.condition_2)} "
            f"({self.c_count} of {self.n_outside - self.n_outside_in_train} samples "
            f"of M \\ T lie in C; {self.n_outside_in_train} outside samples lay in T "
            "and were skipped)",
            f"  beta_j != alpha_j: classes {list(self.differing_classes)} of "
            f"{len(self.predicate_differences)} "
            f"(samples differing per class: {list(self.predicate_differences)})",
            "  " + self.original_partition.summary(),
            "  " + self.candidate_partition.summary(),
        ]
        lines += [f"  why not: {reason}" for reason in self.reasons]
        describe = describe or _describe_values
        lines += [f"  witness in C: {describe(w)}" for w in self.c_witnesses]
        mismatches = self.train_mismatch_witnesses
        lines += [f"  g != f on T: {describe(w)}" for w in mismatches]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """Return the counts and verdict as JSON-able values.

        Witnesses are listed when samples are vectors (shape (n, d)); for
        larger samples such as images only their count is given.
        """
        return {
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "condition_1": self.condition_1,
            "condition_2": self.condition_2,
            "n_train": self.n_train,
            "n_outside": self.n_outside,
            "n_outside_in_train": self.n_outside_in_train,
            "train_mismatches": self.train_mismatches,
            "c_count": self.c_count,
            "c_witnesses": _witness_list(self.c_witnesses),
            "predicate_differences": list(self.predicate_differences),
            "original_partition_holds": self.original_partition.holds,
            "candidate_partition_holds": self.candidate_partition.holds,
        }


def _witness_list(witnesses: np.ndarray) -> list | int:
    return witnesses.tolist() if witnesses.ndim <= 2 else len(witnesses)


def _yes(flag: bool) -> str:
    return "yes" if flag else "NO"


def _describe_values(sample: np.ndarray) -> str:
    with np.printoptions(precision=6, threshold=8, edgeitems=2, linewidth=200):
        return " ".join(str(sample).split())


@dataclass
class _Tally:
    """Running counts over sample chunks for one pair of structures."""

    n_witnesses: int
    n_train: int = 0
    n_outside: int = 0
    n_outside_in_train: int = 0
    train_mismatches: int = 0
    c_count: int = 0
    differences: np.ndarray | None = None
    partition: dict = field(default_factory=dict)
    witnesses: dict = field(default_factory=dict)

    def keep(self, kind: str, samples: np.ndarray) -> None:
        """Store up to n_witnesses samples of one kind."""
        kept = self.witnesses.get(kind, samples[:0])
        room = self.n_witnesses - len(kept)
        self.witnesses[kind] = np.concatenate([kept, samples[:room]])

    def witnesses_of(self, kind: str, template: np.ndarray) -> np.ndarray:
        return self.witnesses.get(kind, template[:0])

    def count_partition(self, structure: Structure, x, truth) -> None:
        """Add one chunk's overlaps, gaps and labelling mismatches."""
        ones = truth.sum(axis=1)
        single = labels_from_truth(truth)
        labels = structure.label(x) if structure.labelling is not None else single
        counts = self.partition.setdefault(structure.name, np.zeros(3, np.int64))
        counts += [
            np.sum(ones > 1),
            np.sum(ones == 0),
            np.sum((ones == 1) & (labels != single)),
        ]
        self.keep(f"{structure.name} overlap", x[ones > 1])
        self.keep(f"{structure.name} gap", x[ones == 0])

    def partition_check(self, structure: Structure, template) -> PartitionCheck:
        counts = self.partition.get(structure.name, np.zeros(3, np.int64))
        return PartitionCheck(
            structure.name,
            self.n_train + self.n_outside,
            int(counts[0]),
            int(counts[1]),
            int(counts[2]),
            self.witnesses_of(f"{structure.name} overlap", template),
            self.witnesses_of(f"{structure.name} gap", template),
        )


def draw_chunks(
    source: np.ndarray | Sampler,
    n: int | None,
    rng: np.random.Generator,
    chunk_size: int = DEFAULT_CHUNK,
) -> Iterator[np.ndarray]:
    """Yield the samples of an array, or n draws of a sampler, in chunks."""
    if chunk_size < 1:
        raise ValueError(f"`chunk_size` must be >= 1, got {chunk_size}")
    if not callable(source):
        samples = np.asarray(source)
        for start in range(0, len(samples), chunk_size):
            yield samples[start : start + chunk_size]
        return
    if n is None or n < 1:
        raise ValueError(f"the sample count must be >= 1 for a sampler, got {n!r}")
    for start in range(0, n, chunk_size):
        count = min(chunk_size, n - start)
        yield _draw(source, count, rng)


def _draw(sampler: Sampler, count: int, rng: np.random.Generator) -> np.ndarray:
    samples = np.asarray(sampler(count, rng))
    if samples.ndim < 1 or len(samples) != count:
        raise ValueError(
            f"a sampler asked for {count} samples returned shape {samples.shape}"
        )
    return samples


def _add_train_chunk(tally: _Tally, original, candidate, x) -> None:
    f = original.label(x)
    g = candidate.label(x)
    tally.n_train += len(x)
    tally.train_mismatches += int(np.sum(f != g))
    tally.keep("train mismatch", x[f != g])


def _add_outside_chunk(tally: _Tally, original, candidate, x, in_train) -> None:
    inside = train_membership(in_train, x)
    differ = original.label(x) != candidate.label(x)
    in_c = differ & ~inside
    tally.n_outside += len(x)
    tally.n_outside_in_train += int(np.sum(inside))
    tally.c_count += int(np.sum(in_c))
    tally.keep("C", x[in_c])


def train_membership(in_train: Predicate | None, x: np.ndarray) -> np.ndarray:
    """Evaluate the membership predicate of T, all False when there is none."""
    if in_train is None:
        return np.zeros(len(x), dtype=bool)
    return _evaluate("T", "in_train", in_train, x)


def _add_common(tally: _Tally, original, candidate, x) -> None:
    """Count partition faults and beta_j != alpha_j on one chunk of any samples."""
    alpha = original.truth_table(x)
    beta = candidate.truth_table(x)
    tally.count_partition(original, x, alpha)
    tally.count_partition(candidate, x, beta)
    if tally.differences is None:
        tally.differences = np.zeros(alpha.shape[1], np.int64)
    tally.differences += np.sum(alpha != beta, axis=0)


def check_false_structure(
    original: Structure,
    candidate: Structure,
    train: np.ndarray | Sampler,
    outside: np.ndarray | Sampler,
    *,
    n_train: int | None = None,
    n_outside: int | None = None,
    in_train: Predicate | None = None,
    seed: int | np.random.Generator = 0,
    n_witnesses: int = 5,
    chunk_size: int = DEFAULT_CHUNK,
) -> FalseStructureReport:
    """Decide on samples whether ``candidate`` is a false structure for ``original``.

    Args:
        original: the original structure (f, L).
        candidate: the candidate (g, L'); it must have as many classes.
        train: samples of T, shape (n, ...), or a sampler of T.
        outside: samples of M \\ T, or a sampler of them.
        n_train, n_outside: draw counts, required where a sampler is given.
        in_train: optional membership predicate of T; outside samples for
            which it is true are skipped when counting C.
        seed: seed or generator for the samplers.
        n_witnesses: maximum number of witnesses kept of each kind.

    Returns:
        A ``FalseStructureReport`` with counts, witnesses and the verdict of
        Definition 2.2 (Thesing, Antun, Hansen, arXiv:1906.01478).
    """
    check_comparable(original, candidate)
    if n_witnesses < 0:
        raise ValueError(f"`n_witnesses` must be >= 0, got {n_witnesses}")
    rng = np.random.default_rng(seed)
    tally = _Tally(n_witnesses)
    template = None
    for x in draw_chunks(train, n_train, rng, chunk_size):
        _add_train_chunk(tally, original, candidate, x)
        _add_common(tally, original, candidate, x)
        template = x if template is None else template
    for x in draw_chunks(outside, n_outside, rng, chunk_size):
        _add_outside_chunk(tally, original, candidate, x, in_train)
        _add_common(tally, original, candidate, x)
        template = x if template is None else template
    return _report(tally, original, candidate, template)


def check_comparable(original: Structure, candidate: Structure) -> None:
    """Raise ValueError unless class counts are equal and the names differ."""
    if original.n_classes != candidate.n_classes:
        raise ValueError(
            f"structures must have equal class counts, got {original.n_classes} "
            f"for {original.name!r} and {candidate.n_classes} for {candidate.name!r}"
        )
    if original.name == candidate.name:
        raise ValueError(
            f"structures must have distinct names, both are {original.name!r}"
        )


def _report(tally: _Tally, original, candidate, template) -> FalseStructureReport:
    if template is None:
        raise ValueError("`train` and `outside` hold no samples; give at least one")
    differences = tally.differences
    return FalseStructureReport(
        original=original.name,
        candidate=candidate.name,
        class_names=tuple(
            zip(original.class_names, candidate.class_names, strict=True)
        ),
        n_train=tally.n_train,
        n_outside=tally.n_outside,
        n_outside_in_train=tally.n_outside_in_train,
        train_mismatches=tally.train_mismatches,
        train_mismatch_witnesses=tally.witnesses_of("train mismatch", template),
        c_count=tally.c_count,
        c_witnesses=tally.witnesses_of("C", template),
        predicate_differences=tuple(int(n) for n in differences),
        original_partition=tally.partition_check(original, template),
        candidate_partition=tally.partition_check(candidate, template),
    )


def finite_set_membership(samples: np.ndarray) -> Predicate:
    """Return a predicate that is true for exact copies of the given samples.

    Use it as ``in_train`` when T is a finite set such as a drawn training set.
    """
    samples = np.ascontiguousarray(samples)
    keys = {row.tobytes() for row in samples}
    dtype, shape = samples.dtype, samples.shape[1:]

    def contains(x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(np.asarray(x, dtype=dtype))
        if x.shape[1:] != shape:
            return np.zeros(len(x), dtype=bool)
        return np.fromiter((row.tobytes() in keys for row in x), bool, len(x))

    return contains


__all__ = [
    "FalseStructureReport",
    "PartitionCheck",
    "Predicate",
    "Sampler",
    "Structure",
    "VERDICT_FALSE",
    "VERDICT_NONE",
    "VERDICT_PARTIAL",
    "check_false_structure",
    "draw_chunks",
    "finite_set_membership",
    "labels_from_truth",
]
