"""Firm economics: productivity with agglomeration, congestion prices, costs.

Pure functions over arrays; the model calls them once per phase for all
firms (n) or all cities (J).
"""

from __future__ import annotations

import numpy as np

from sim.params import BehaviourParams


def productivity(firms_in_city: np.ndarray, approval: np.ndarray, b: BehaviourParams) -> np.ndarray:
    """Output multiplier per city: ((1 + N) / (1 + N_ref))^elasticity x approval uplift."""
    cluster = ((1.0 + firms_in_city) / (1.0 + b.cluster_ref)) ** b.agglomeration
    return cluster * (1.0 + b.approval_uplift * approval)


def utilisation(firms_in_city: np.ndarray, crew_in_city: np.ndarray, capacity: np.ndarray,
                talent: np.ndarray) -> np.ndarray:
    """Share of its time a firm can shoot, per city, when studios or crews are short.

    Studio slots are shared first (one team per firm); the crews those slots
    need are then rationed by the talent pool.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # results are clipped
        slots = np.where(firms_in_city > 0, np.minimum(1.0, capacity / firms_in_city), 1.0)
        crew_needed = crew_in_city * slots
        crews = np.where(crew_needed > 1e-9, np.minimum(1.0, talent / np.maximum(crew_needed, 1e-9)), 1.0)
    return slots * crews


def rent_level(base_rent: np.ndarray, firms_in_city: np.ndarray, capacity: np.ndarray,
               b: BehaviourParams) -> np.ndarray:
    """Rent per team-month: rises with occupancy (firms / studio capacity).

    The listed rent holds at `reference_occupancy`; empty studios rent at no
    less than half of it.
    """
    occupancy = firms_in_city / np.maximum(capacity, 1e-9)
    factor = (np.maximum(occupancy, 1e-9) / b.reference_occupancy) ** b.rent_elasticity
    return base_rent * np.maximum(factor, 0.5)


def wage_level(base_wage: np.ndarray, crew_demand: np.ndarray, talent: np.ndarray,
               b: BehaviourParams) -> np.ndarray:
    """Wage per crew member-month: the base wage, bid up when demand exceeds the pool."""
    pressure = np.where(talent > 0, crew_demand / np.maximum(talent, 1e-9), np.where(crew_demand > 0, 1e9, 0.0))
    return base_wage * np.maximum(1.0, pressure) ** b.wage_elasticity


def next_talent(talent: np.ndarray, crew_demand: np.ndarray, trained: np.ndarray,
                b: BehaviourParams) -> np.ndarray:
    """Next month's talent pool: crews move in to fill part of a shortage, idle crews drift away, programmes train more."""
    gap = crew_demand - talent
    change = np.where(gap > 0, b.talent_migration * gap, b.talent_attrition * gap)
    return np.maximum(talent + change + trained, 0.0)


def next_private_capacity(capacity: np.ndarray, firms_in_city: np.ndarray, b: BehaviourParams) -> np.ndarray:
    """Private studio space grows while occupancy is above the reference (sets are converted from other space)."""
    occupancy = firms_in_city / np.maximum(capacity, 1e-9)
    excess = np.maximum(occupancy / b.reference_occupancy - 1.0, 0.0)
    return capacity * (1.0 + b.studio_supply_rate * np.minimum(excess, 1.0))


def shooting_cost(wage: np.ndarray, rent: np.ndarray, crew: np.ndarray, util: np.ndarray) -> np.ndarray:
    """Crews and studio for the share of the month a firm shoots, before any AIGC support."""
    return util * (wage * crew + rent)


def monthly_cost(wage: np.ndarray, rent: np.ndarray, crew: np.ndarray, util: np.ndarray,
                 overhead: float, aigc: np.ndarray | float = 0.0) -> np.ndarray:
    """What a firm pays in a month: shooting cost less the AIGC support share, plus overhead."""
    return shooting_cost(wage, rent, crew, util) * (1.0 - aigc) + overhead


def cost_per_production(wage: np.ndarray, rent: np.ndarray, crew: np.ndarray, rate: np.ndarray,
                        overhead: float, aigc: np.ndarray | float = 0.0) -> np.ndarray:
    """A production's cost (its investment): a month of full costs, net of AIGC support, over a month's output."""
    return ((wage * crew + rent) * (1.0 - aigc) + overhead) / np.maximum(rate, 1e-9)
