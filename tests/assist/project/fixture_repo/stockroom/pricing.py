"""Prices: discounts, value added tax and rounding to cents."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal


def round_currency(amount: float) -> Decimal:
    """Round to whole cents with banker's rounding (half to even)."""
    return Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def apply_discount(price: float, percent: float) -> Decimal:
    """The price after a percentage discount; percentages over 90 are refused."""
    if not 0 <= percent <= 90:
        raise ValueError("discount must be between 0 and 90 percent")
    return round_currency(price * (1 - percent / 100))


def compute_tax(net: float, rate: float) -> Decimal:
    """The VAT owed on a net amount at ``rate`` (0.2 is twenty percent)."""
    return round_currency(net * rate)


def gross_price(net: float, rate: float, discount: float = 0.0) -> Decimal:
    """Net price, discounted, plus tax: what the customer pays."""
    discounted = apply_discount(net, discount)
    return round_currency(float(discounted) + float(compute_tax(float(discounted), rate)))
