"""Exact optimal codes for small alphabets and optimized codes for large ones."""
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sklearn_focal.rate_distortion._bounds import _greedy_cells
from sklearn_focal.rate_distortion._entropy import EXACT_MAX_SUPPORT, _check_auxiliary
from sklearn_focal.utils.validation import (
    check_gamma,
    check_integer,
    check_pmf,
    log_base,
)


@dataclass(frozen=True)
class RateDistortionCode:
    """A fixed-length code for the focal-loss source coding problem.

    Attributes
    ----------
    distortion : float
        Expected focal distortion ``E[d(X; g(f(X)))]`` in the requested base.
    encoder : ndarray of shape (n_symbols,)
        Message (cell index in ``[0, n_cells)``) of every symbol.
    codebook : ndarray of shape (n_cells, n_symbols)
        Soft reconstruction of every message: the focal-entropy minimizer of
        the source restricted to the cell, which is the optimal decoder.
    n_iter : int
        Local-search iterations (accepted moves or swaps); 0 for exact codes.
    optimal : bool
        Whether the code is known to attain ``d*(M; gamma)``.
    method : str
        ``"exact"``, ``"greedy"`` or ``"local_search"``.
    """

    distortion: float
    encoder: np.ndarray = field(repr=False)
    codebook: np.ndarray = field(repr=False)
    n_iter: int = 0
    optimal: bool = False
    method: str = "local_search"

    @property
    def n_cells(self) -> int:
        """Number of messages actually used."""
        return int(self.codebook.shape[0])


def _theory():
    from sklearn_focal import theory

    return theory


def _cell_costs(rows: np.ndarray, gamma: float) -> np.ndarray:
    """``mass(row) * minFE(row / mass(row))`` in nats for each row of masses."""
    if rows.shape[-1] < 2:
        return np.zeros(rows.shape[0])
    mass = rows.sum(axis=-1)
    nonempty = mass > 0
    safe = np.where(nonempty[:, None], rows, 1.0)
    cond = safe / safe.sum(axis=-1, keepdims=True)
    # A single symbol is encoded losslessly: its decoder is a point mass.
    single = np.count_nonzero(rows, axis=-1) <= 1
    fe = _theory().min_focal_entropy(cond, gamma)
    return np.where(nonempty & ~single, mass * fe, 0.0)


def _codebook(p: np.ndarray, labels: np.ndarray, n_cells: int, gamma: float):
    if p.size == 1:
        return np.ones((1, 1))
    rows = np.where(labels[None, :] == np.arange(n_cells)[:, None], p[None, :], 0.0)
    mass = rows.sum(axis=1, keepdims=True)
    safe = np.where(mass > 0, rows / np.where(mass > 0, mass, 1.0), 1.0 / p.size)
    return _theory().focal_minimizer(safe, gamma)


def _finish_code(p, support, labels_support, n_cells, gamma, ln_base, **kwargs):
    """Lift a labelling of the support to the full alphabet and build the code."""
    labels = np.zeros(p.size, dtype=np.int64)
    labels[support] = labels_support
    # Compact cell indices to 0..n_used-1 in order of first appearance.
    _, first = np.unique(labels_support, return_index=True)
    used = labels_support[np.sort(first)]
    remap = np.full(max(n_cells, int(labels.max()) + 1), -1)
    remap[used] = np.arange(used.size)
    labels[support] = remap[labels_support]
    codebook = _codebook(p, labels, used.size, gamma)
    rows = np.where(labels[None, :] == np.arange(used.size)[:, None], p, 0.0)
    distortion = float(_cell_costs(rows, gamma).sum()) / ln_base
    return RateDistortionCode(
        distortion=distortion, encoder=labels, codebook=codebook, **kwargs
    )


def _submask_pairs(k: int):
    """All (S, T), sorted by S, with T a subset of S holding S's lowest element."""
    s_all = np.arange(1, 1 << k, dtype=np.int64)
    t_all = s_all & -s_all
    low = t_all.copy()
    for b in range(k):
        bit = 1 << b
        sel = ((s_all & bit) != 0) & (low != bit)
        s_all = np.concatenate([s_all, s_all[sel]])
        t_all = np.concatenate([t_all, t_all[sel] | bit])
        low = np.concatenate([low, low[sel]])
    order = np.argsort(s_all, kind="stable")
    return s_all[order], t_all[order]


def exact_distortion(
    pmf,
    n_codewords: int,
    gamma: float,
    *,
    base: float | None = 2,
    return_code: bool = False,
):
    """Single-shot optimum ``d*(M; gamma)`` of eq. (5), by dynamic programming.

    For a fixed encoder (a partition of the alphabet into at most ``M``
    cells) the best decoder of a cell is the focal-entropy minimizer of the
    source restricted to that cell, so
    ``d* = min over partitions of sum_cells R(cell) * minFE(R | cell)``.
    The cell cost of every subset of the support is computed in one
    vectorized call, then a dynamic program over subsets
    (``d_j(S) = min_T cost(T) + d_{j-1}(S \\ T)``, ``T`` holding the lowest
    element of ``S``) takes ``O(M 3**n)`` time instead of enumerating the
    ``Bell(n)`` partitions.

    Parameters
    ----------
    pmf : array-like of shape (n_symbols,)
        Source pmf R_X (already re-weighted, see :func:`reweight`).
        At most :data:`EXACT_MAX_SUPPORT` symbols may have positive probability.
    n_codewords : int
        Number of messages ``M``.
    gamma : float
        Focus parameter, ``>= 0``.
    base : float or None, default=2
        Base of the logarithm; ``None`` for natural logarithms.
    return_code : bool, default=False
        Return a :class:`RateDistortionCode` (optimal encoder and codebook)
        instead of the distortion alone.

    Returns
    -------
    float or RateDistortionCode
        ``d*(M; gamma)``, or an optimal code.

    Raises
    ------
    ValueError
        If the support is larger than :data:`EXACT_MAX_SUPPORT`; use
        :func:`optimized_code` for an achievable upper bound instead.

    Examples
    --------
    >>> from sklearn_focal.rate_distortion import exact_distortion
    >>> round(exact_distortion([1 / 3, 1 / 3, 1 / 3], 2, 1.0), 6)  # (2/3)(1/2)
    0.333333
    """
    p = check_pmf(pmf)
    m = check_integer(n_codewords, "n_codewords", minimum=1)
    g = check_gamma(gamma)
    ln_base = log_base(base)
    support = np.flatnonzero(p > 0)
    k = support.size
    if k > EXACT_MAX_SUPPORT:
        raise ValueError(
            f"exact_distortion handles at most {EXACT_MAX_SUPPORT} symbols of "
            f"positive probability, got {k}; its cost grows as 3**n. Use "
            "sklearn_focal.rate_distortion.optimized_code for an achievable "
            "code (an upper bound on d*)."
        )
    if k <= m:
        if not return_code:
            return 0.0
        return _finish_code(
            p, support, np.arange(k), k, g, ln_base, optimal=True, method="exact"
        )
    ps = p[support]
    n_sub = 1 << k
    bits = (np.arange(n_sub)[:, None] >> np.arange(k)[None, :]) & 1
    cost = _cell_costs(np.where(bits == 1, ps[None, :], 0.0), g)
    s_pairs, t_pairs = _submask_pairs(k)
    starts = np.flatnonzero(np.r_[True, s_pairs[1:] != s_pairs[:-1]])
    levels = [cost]
    current = cost
    for _ in range(m - 1):
        values = cost[t_pairs] + current[s_pairs ^ t_pairs]
        nxt = np.zeros(n_sub)
        nxt[s_pairs[starts]] = np.minimum.reduceat(values, starts)
        levels.append(nxt)
        current = nxt
    full = n_sub - 1
    if not return_code:
        return float(current[full]) / ln_base
    # Backtrack the optimal partition.
    labels = np.empty(k, dtype=np.int64)
    remaining = full
    cell = 0
    for level in range(m - 1, -1, -1):
        if remaining == 0:
            break
        seg = slice(*np.searchsorted(s_pairs, [remaining, remaining + 1]))
        t_cand = t_pairs[seg]
        if level == 0:
            chosen = remaining
        else:
            vals = cost[t_cand] + levels[level - 1][remaining ^ t_cand]
            chosen = int(t_cand[np.argmin(vals)])
        labels[(chosen >> np.arange(k)) & 1 == 1] = cell
        remaining ^= chosen
        cell += 1
    return _finish_code(p, support, labels, m, g, ln_base, optimal=True, method="exact")


#: Cell-cost evaluations of the local search go in blocks of at most this
#: many pmf entries (2 MB of float64): with the (n_cells, k) cell rows and the
#: (k, n_cells) cost caches, memory stays O(n_cells k), never O(k**2).
_COST_BLOCK = 2**18


class _PartitionSearch:
    """Local search over partitions of the support, with cached cell costs.

    ``cost_with[x, c]`` is the cost of cell ``c`` with symbol ``x`` added (for
    ``x``'s own cell: the cell itself) and ``cost_without[x]`` the cost of
    ``x``'s cell with ``x`` removed; a move changes two cells, so only the
    entries of those two cells are recomputed. Candidate cells are scored in
    blocks of at most ``_COST_BLOCK`` entries, and nothing of size ``k**2`` is
    ever built (no identity matrix, no list of all swaps).
    """

    def __init__(self, ps, labels, n_cells, gamma):
        self.ps, self.gamma, self.k = ps, gamma, ps.size
        self.cells = np.arange(n_cells)
        self.labels = labels.copy()
        self.rows = self._rows()
        self.cost = _cell_costs(self.rows, gamma)
        self.cost_with = self._costs_with(self.cells)
        self.cost_without = self._costs_without(np.arange(self.k))

    def _costs_with(self, cells):
        """Cost of each cell of ``cells`` with each symbol added, (k, len(cells))."""
        out = np.empty((self.k, cells.size))
        step = max(1, _COST_BLOCK // (self.k * cells.size))
        for start in range(0, self.k, step):
            xs = np.arange(start, min(start + step, self.k))
            added = np.repeat(self.rows[None, cells, :], xs.size, axis=0)
            added[np.arange(xs.size), :, xs] += self.ps[xs, None]
            out[xs] = _cell_costs(added.reshape(-1, self.k), self.gamma).reshape(
                -1, cells.size
            )
        return out

    def _costs_without(self, xs):
        """Cost of the cell of each symbol of ``xs`` with that symbol removed."""
        out = np.empty(xs.size)
        step = max(1, _COST_BLOCK // self.k)
        for start in range(0, xs.size, step):
            block = xs[start : start + step]
            removed = self.rows[self.labels[block]]
            removed[np.arange(block.size), block] = 0.0
            out[start : start + step] = _cell_costs(removed, self.gamma)
        return out

    def _rows(self):
        mask = self.labels[None, :] == self.cells[:, None]
        return np.where(mask, self.ps[None, :], 0.0)

    @property
    def total(self):
        return float(self.cost.sum())

    def move_deltas(self):
        lab = self.labels
        delta = (
            self.cost_without[:, None]
            + self.cost_with
            - self.cost[lab][:, None]
            - self.cost[None, :]
        )
        delta[np.arange(self.k), lab] = np.inf
        return delta

    def _swap_blocks(self, step):
        """Pairs ``x < y`` of different cells, row-major, in blocks of ``step``.

        The order and the blocks of ``np.nonzero(np.triu(different, 1))``,
        generated a few rows at a time: memory O(step + k), not O(k**2).
        """
        lab, k = self.labels, self.k
        rows_per_chunk = max(1, step // k)
        pending_x, pending_y, n_pending = [], [], 0
        for start in range(0, k, rows_per_chunk):
            xs = np.arange(start, min(start + rows_per_chunk, k))
            later = np.arange(k)[None, :] > xs[:, None]
            cx, ys = np.nonzero(later & (lab[xs, None] != lab[None, :]))
            pending_x.append(xs[cx])
            pending_y.append(ys)
            n_pending += ys.size
            if n_pending >= step:
                all_xs, all_ys = np.concatenate(pending_x), np.concatenate(pending_y)
                n_full = all_xs.size // step * step
                for first in range(0, n_full, step):
                    yield all_xs[first : first + step], all_ys[first : first + step]
                pending_x, pending_y = [all_xs[n_full:]], [all_ys[n_full:]]
                n_pending = all_xs.size - n_full
        if n_pending:
            yield np.concatenate(pending_x), np.concatenate(pending_y)

    def best_swap(self):
        lab = self.labels
        best, pair = np.inf, None
        step = max(1, _COST_BLOCK // (2 * self.k))
        for xs, ys in self._swap_blocks(step):
            la, lb = lab[xs], lab[ys]
            index = np.arange(xs.size)
            # Cell a loses x and gains y; cell b loses y and gains x.
            new_a = self.rows[la]
            new_a[index, xs] = 0.0
            new_a[index, ys] = self.ps[ys]
            new_b = self.rows[lb]
            new_b[index, ys] = 0.0
            new_b[index, xs] = self.ps[xs]
            new_cost = _cell_costs(np.concatenate([new_a, new_b]), self.gamma)
            delta = (
                new_cost[: xs.size]
                + new_cost[xs.size :]
                - self.cost[la]
                - self.cost[lb]
            )
            j = int(np.argmin(delta))
            if delta[j] < best:  # the first of equal minima, as one argmin
                best, pair = float(delta[j]), (int(xs[j]), int(ys[j]))
        return best, pair

    def set_labels(self, changes):
        """Apply ``{symbol: new cell}`` and refresh the caches of touched cells."""
        touched = {int(self.labels[x]) for x in changes} | set(changes.values())
        for x, c in changes.items():
            self.labels[x] = c
        touched = np.array(sorted(touched))
        self.rows = self._rows()
        self.cost[touched] = _cell_costs(self.rows[touched], self.gamma)
        self.cost_with[:, touched] = self._costs_with(touched)
        members = np.flatnonzero(np.isin(self.labels, touched))
        self.cost_without[members] = self._costs_without(members)

    def descend(self, max_iter, swaps):
        """Best-improvement moves, then swaps when no move helps."""
        n_iter = 0
        while n_iter < max_iter:
            tol = 1e-12 * self.total
            delta = self.move_deltas()
            x, c = np.unravel_index(np.argmin(delta), delta.shape)
            if delta[x, c] < -tol:
                self.set_labels({int(x): int(c)})
            elif swaps:
                d_swap, pair = self.best_swap()
                if not d_swap < -tol:
                    break
                a, b = pair
                self.set_labels({a: int(self.labels[b]), b: int(self.labels[a])})
            else:
                break
            n_iter += 1
        return n_iter

    def kl_pass(self):
        """One Kernighan-Lin pass: forced best moves of unlocked symbols.

        Every symbol is moved once, to its best other cell even when that
        raises the distortion; the best partition met along the way is kept.
        Returns whether it improved on the starting partition.
        """
        start = self.total
        best, best_labels = start, self.labels.copy()
        locked = np.zeros(self.k, dtype=bool)
        for _ in range(self.k):
            delta = self.move_deltas()
            delta[locked] = np.inf
            x, c = np.unravel_index(np.argmin(delta), delta.shape)
            if not np.isfinite(delta[x, c]):
                break
            self.set_labels({int(x): int(c)})
            locked[x] = True
            if self.total < best - 1e-12 * best:
                best, best_labels = self.total, self.labels.copy()
        changes = {
            int(x): int(best_labels[x])
            for x in np.flatnonzero(best_labels != self.labels)
        }
        if changes:
            self.set_labels(changes)
        return best < start - 1e-12 * start


def _pair_resplit(search, max_union):
    """Optimally re-split every pair of cells whose union is small.

    All ``2**(u-1)`` bipartitions of the ``u`` symbols of two cells are
    scored in one vectorized call (only when ``u <= max_union``). Returns the
    number of improving re-splits applied.
    """
    n_done = 0
    n_cells = search.cells.size
    for a in range(n_cells):
        for b in range(a + 1, n_cells):
            members = np.flatnonzero((search.labels == a) | (search.labels == b))
            u = members.size
            if u < 3 or u > max_union:
                continue
            splits = np.arange(1 << (u - 1))
            side = np.ones((splits.size, u), dtype=bool)
            side[:, 1:] = ((splits[:, None] >> np.arange(u - 1)) & 1) == 1
            pu = search.ps[members]
            rows = np.concatenate([np.where(side, pu, 0.0), np.where(side, 0.0, pu)])
            costs = _cell_costs(rows, search.gamma)
            totals = costs[: splits.size] + costs[splits.size :]
            j = int(np.argmin(totals))
            current = search.cost[a] + search.cost[b]
            if totals[j] < current - 1e-12 * search.total:
                search.set_labels(
                    {int(x): (a if side[j, i] else b) for i, x in enumerate(members)}
                )
                n_done += 1
    return n_done


def _improve(ps, labels, n_cells, gamma, max_iter, swaps, max_union):
    """Descend; then re-split pairs of cells and run Kernighan-Lin passes."""
    search = _PartitionSearch(ps, labels, n_cells, gamma)
    n_iter = search.descend(max_iter, swaps)
    while n_iter < max_iter:
        n_split = _pair_resplit(search, max_union)
        if not n_split:
            break
        n_iter += n_split
        n_iter += search.descend(max_iter - n_iter, swaps)
    return search.labels, n_iter, search.total


def optimized_code(
    pmf,
    n_codewords: int,
    gamma: float,
    *,
    auxiliary=None,
    max_iter: int = 10_000,
    swaps: bool = True,
    n_restarts: int | None = None,
    random_state: int | None = 0,
    base: float | None = 2,
) -> RateDistortionCode:
    """An achievable code better than (28): code (26), optimal decoders, local search.

    Starts from the compressor (26) built on the auxiliary pmf ``F``, replaces
    the decoder (27) by the focal-optimal decoder of each cell (the
    focal-entropy minimizer of the source restricted to the cell), then moves
    single symbols between cells, or swaps two symbols of different cells,
    taking the best improving change until none lowers the distortion (or
    ``max_iter`` changes were made). To escape local minima it then runs
    ``n_restarts`` rounds of iterated local search: a few random symbols of
    the best partition so far are reassigned at random and the local search
    resumes; the best partition is kept. Its distortion is therefore at most
    the exact distortion (28) of the code (26)-(27), and an upper bound on
    ``d*(M; gamma)``.

    Parameters
    ----------
    pmf : array-like of shape (n_symbols,)
        Source pmf R_X (already re-weighted, see :func:`reweight`).
    n_codewords : int
        Number of messages ``M``.
    gamma : float
        Focus parameter, ``>= 0``.
    auxiliary : array-like of shape (n_symbols,), default=None
        Auxiliary pmf ``F`` of the starting compressor (26); ``None``: ``F = R``.
    max_iter : int, default=10_000
        Maximum number of accepted moves or swaps; 0 keeps the code (26)
        with optimal decoders.
    swaps : bool, default=True
        Also try exchanging two symbols of different cells when no single
        move helps.
    n_restarts : int or None, default=None
        Rounds of perturbation and renewed local search (0: plain local
        search from the code (26)). ``None`` means 10 when the support has
        at most 32 symbols and 0 otherwise: on large alphabets the restarts
        cost ten times the search for gains of about 1e-6 relative.
    random_state : int, numpy.random.Generator or None, default=0
        Seed of the perturbations; the default makes the result
        deterministic.
    base : float or None, default=2
        Base of the logarithm; ``None`` for natural logarithms.

    Returns
    -------
    RateDistortionCode
        ``distortion``, ``encoder``, ``codebook``, ``n_iter``; ``optimal`` is
        True only when ``|support| <= M`` (distortion 0).

    See Also
    --------
    exact_distortion : The optimum itself, for small alphabets.

    Examples
    --------
    >>> from sklearn_focal.rate_distortion import optimized_code
    >>> code = optimized_code([0.4, 0.3, 0.2, 0.1], 2, 1.0)
    >>> code.encoder.shape, code.codebook.shape
    ((4,), (2, 4))
    >>> code.distortion > 0
    True
    """
    p = check_pmf(pmf)
    f = _check_auxiliary(auxiliary, p)
    m = check_integer(n_codewords, "n_codewords", minimum=1)
    g = check_gamma(gamma)
    max_iter = check_integer(max_iter, "max_iter", minimum=0)
    if n_restarts is not None:
        n_restarts = check_integer(n_restarts, "n_restarts", minimum=0)
    ln_base = log_base(base)
    support = np.flatnonzero(p > 0)
    k = support.size
    if k <= m:
        return _finish_code(
            p, support, np.arange(k), k, g, ln_base, optimal=True, method="local_search"
        )
    if n_restarts is None:
        n_restarts = 10 if k <= 32 else 0
    ps = p[support]
    labels = _greedy_cells(f[support], m)
    if max_iter == 0:  # the code (26) with optimal decoders: no search
        return _finish_code(
            p, support, labels, m, g, ln_base, n_iter=0, optimal=False, method="greedy"
        )
    labels, n_iter, best = _improve(ps, labels, m, g, max_iter, swaps, 14)
    rng = np.random.default_rng(random_state)
    n_kick = max(2, k // 8)
    for _ in range(n_restarts if max_iter > 0 else 0):
        trial = labels.copy()
        kicked = rng.choice(k, size=min(k, n_kick), replace=False)
        trial[kicked] = rng.integers(0, m, size=kicked.size)
        trial, it, value = _improve(ps, trial, m, g, max_iter, swaps, 14)
        n_iter += it
        if value < best * (1 - 1e-12):
            labels, best = trial, value
    method = "greedy" if max_iter == 0 else "local_search"
    return _finish_code(
        p, support, labels, m, g, ln_base, n_iter=n_iter, optimal=False, method=method
    )
