"""The services hash passwords with argon2's recommended parameters (the tests swap in light ones,
tests/conftest.py `light_password_hashing`, to keep their setup short): the swap must never be what
ships."""

from __future__ import annotations

from argon2 import PasswordHasher, Type

from services.common.identity import login, users


def test_passwords_are_hashed_with_argon2id_at_its_recommended_strength(light_password_hashing):
    shipped = light_password_hashing.shipped
    recommended = PasswordHasher()

    assert shipped.type is Type.ID
    assert shipped.memory_cost >= recommended.memory_cost >= 64 * 1024
    assert shipped.time_cost >= recommended.time_cost
    assert users.PASSWORDS is login.PASSWORDS  # one set of parameters for hashing and checking
