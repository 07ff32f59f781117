"""The database's connection scopes: which statements share a transaction, and pooled connections
staying sane after every kind of use (both databases)."""
from __future__ import annotations

import asyncio

import pytest

from db.database import Database


@pytest.fixture
async def db(db_url):
    database = await Database(db_url, pool_size=1).open()
    await database.execute("DROP TABLE IF EXISTS scope_probe")
    await database.execute("CREATE TABLE scope_probe (a INTEGER)")
    yield database
    await database.execute("DROP TABLE IF EXISTS scope_probe")
    await database.close()


async def count(db: Database) -> int:
    return await db.fetchval("SELECT COUNT(*) FROM scope_probe")


async def test_one_pooled_connection_alternating_autocommit_and_transactions(db):
    """One connection in the pool serves, in turn, single statements (autocommit), transactions
    with savepoints, units of work committed early or rolled back, and a stream. None of them may
    leave the connection in a state the next one trips over (SQLite once collided: 'cannot start
    a transaction within a transaction')."""
    expected = 0
    for i in range(4):
        await db.execute("INSERT INTO scope_probe VALUES (?)", (i,))
        expected += 1
        assert await count(db) == expected
        async with db.transaction():
            await db.execute("INSERT INTO scope_probe VALUES (?)", (i,))
            with pytest.raises(KeyError):
                async with db.transaction():
                    await db.execute("INSERT INTO scope_probe VALUES (?)", (i,))
                    raise KeyError
        expected += 1
        async with db.unit_of_work() as unit:
            await db.execute("INSERT INTO scope_probe VALUES (?)", (i,))
            await unit.commit()
            await db.execute("INSERT INTO scope_probe VALUES (?)", (i,))
            await unit.rollback()
            await db.execute("INSERT INTO scope_probe VALUES (?)", (i,))
        expected += 2
        assert [row[0] async for row in db.iterate("SELECT a FROM scope_probe WHERE a = ?", (i,))] == [i] * 4
        with pytest.raises(RuntimeError):
            async with db.transaction():
                await db.execute("INSERT INTO scope_probe VALUES (?)", (i,))
                raise RuntimeError
        assert await count(db) == expected
    if db.dialect == "sqlite":
        async with db.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            assert raw.driver_connection._conn.isolation_level is None  # no implicit BEGINs


async def test_a_background_task_never_joins_the_transaction_of_the_task_that_started_it(db):
    """A task started from inside a unit of work (an export running on after its update) works in
    its own connection, even while its starter lets the children it gathers join (PTB's
    persistence writes): otherwise it would write into, or after, a transaction not its own."""
    entered, seen_by_background, unit_over = asyncio.Event(), [], asyncio.Event()

    async def background():
        await entered.wait()  # runs while the starter's unit is open and shared
        seen_by_background.append(await count(db))
        await unit_over.wait()
        await db.execute("INSERT INTO scope_probe VALUES (1)")  # commits on its own

    async def gathered_child():
        await db.execute("INSERT INTO scope_probe VALUES (2)")  # joins the unit
        entered.set()
        while not seen_by_background:
            await asyncio.sleep(0)

    with pytest.raises(ZeroDivisionError):
        async with db.unit_of_work():
            await db.execute("INSERT INTO scope_probe VALUES (0)")
            task = asyncio.create_task(background())
            async with db.shared_with_children():
                await asyncio.wait_for(asyncio.gather(gathered_child()), 30)
            raise ZeroDivisionError  # the unit rolls back: its row and its child's row go
    unit_over.set()
    await asyncio.wait_for(task, 30)
    assert seen_by_background == [0]  # its own connection: nothing uncommitted of the unit
    assert [row[0] for row in await db.fetchall("SELECT a FROM scope_probe ORDER BY a")] == [1]


async def test_an_early_commit_inside_a_transaction_block_waits_for_the_block(db):
    """A Telegram request inside a `transaction()` block (its savepoint) cannot commit the unit
    of work half way: the block stays atomic, and the connection stays usable after it."""
    from db.database import current_unit_of_work

    async with db.unit_of_work() as unit:
        await db.execute("INSERT INTO scope_probe VALUES (1)")
        with pytest.raises(ValueError):
            async with db.transaction():
                await db.execute("INSERT INTO scope_probe VALUES (2)")
                await current_unit_of_work().commit()  # what the rate limiter does before a request
                await db.execute("INSERT INTO scope_probe VALUES (3)")
                raise ValueError
        await unit.commit()  # outside the block it commits
        await db.execute("INSERT INTO scope_probe VALUES (4)")
    assert [row[0] for row in await db.fetchall("SELECT a FROM scope_probe ORDER BY a")] == [1, 4]
