"""The SQLite schema, as numbered migrations: each takes a database from the version
before it to its own, and a database records the last it ran."""

from bot.store.base import SCHEMA_VERSION

MIGRATIONS: dict[int, str] = {
    # 1: stories, the passage tree, lore.
    1: """
    CREATE TABLE stories (
        id INTEGER PRIMARY KEY,
        guild_id INTEGER,
        channel_id INTEGER,
        title TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'ended')),
        head_id INTEGER REFERENCES passages (id),
        started_by INTEGER,
        memory TEXT NOT NULL DEFAULT '',
        note TEXT NOT NULL DEFAULT '',
        settings TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL
    );
    CREATE UNIQUE INDEX one_active_story_per_channel
        ON stories (guild_id, channel_id) WHERE status = 'active';
    CREATE TABLE passages (
        id INTEGER PRIMARY KEY,
        story_id INTEGER NOT NULL REFERENCES stories (id),
        parent_id INTEGER REFERENCES passages (id),
        text TEXT NOT NULL CHECK (length(trim(text)) > 0),
        summary TEXT,
        author_id INTEGER,
        direction TEXT NOT NULL DEFAULT '',
        model TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL
    );
    CREATE INDEX passages_by_parent ON passages (parent_id);
    CREATE TABLE lore (
        id INTEGER PRIMARY KEY,
        story_id INTEGER NOT NULL REFERENCES stories (id),
        kind TEXT NOT NULL CHECK (kind IN ('character', 'place', 'thing', 'event')),
        name TEXT NOT NULL,
        keywords TEXT NOT NULL,
        text TEXT NOT NULL,
        UNIQUE (story_id, name COLLATE NOCASE)
    );
    """,
    # 2: the model-call log, and what each passage was generated from.
    2: """
    CREATE TABLE model_calls (
        id INTEGER PRIMARY KEY,
        story_id INTEGER REFERENCES stories (id),
        passage_id INTEGER REFERENCES passages (id),
        purpose TEXT NOT NULL,
        model TEXT NOT NULL,
        prompt TEXT NOT NULL,
        response TEXT NOT NULL DEFAULT '',
        prompt_tokens INTEGER NOT NULL DEFAULT 0,
        completion_tokens INTEGER NOT NULL DEFAULT 0,
        latency_ms INTEGER NOT NULL DEFAULT 0,
        error TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL
    );
    CREATE INDEX model_calls_by_story ON model_calls (story_id);
    ALTER TABLE passages ADD COLUMN context TEXT;
    ALTER TABLE passages ADD COLUMN requested_by INTEGER;
    ALTER TABLE passages ADD COLUMN looped INTEGER NOT NULL DEFAULT 0;
    """,
    # 3: ballots, their options and every vote; tone nudges on posted passages.
    3: """
    UPDATE stories SET settings = json_set(settings, '$.mode', 'solo');
    ALTER TABLE stories ADD COLUMN pending_direction TEXT NOT NULL DEFAULT '';
    CREATE TABLE ballots (
        id INTEGER PRIMARY KEY,
        story_id INTEGER NOT NULL REFERENCES stories (id),
        kind TEXT NOT NULL CHECK (kind IN ('passage', 'direction')),
        head_id INTEGER REFERENCES passages (id),
        opened_by INTEGER,
        opened_at REAL NOT NULL,
        deadline REAL NOT NULL,
        quorum INTEGER NOT NULL DEFAULT 0,
        channel_id INTEGER,
        message_id INTEGER,
        status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
        closed_at REAL,
        outcome TEXT NOT NULL DEFAULT '',
        winner_id INTEGER REFERENCES ballot_options (id)
    );
    CREATE UNIQUE INDEX one_open_ballot_per_kind ON ballots (story_id, kind)
        WHERE status = 'open';
    CREATE INDEX ballots_by_message ON ballots (message_id);
    CREATE TABLE ballot_options (
        id INTEGER PRIMARY KEY,
        ballot_id INTEGER NOT NULL REFERENCES ballots (id),
        emoji TEXT NOT NULL,
        passage_id INTEGER REFERENCES passages (id),
        text TEXT NOT NULL DEFAULT '',
        proposed_by INTEGER,
        UNIQUE (ballot_id, emoji)
    );
    CREATE TABLE votes (
        id INTEGER PRIMARY KEY,
        ballot_id INTEGER NOT NULL REFERENCES ballots (id),
        member_id INTEGER NOT NULL,
        emoji TEXT NOT NULL,
        added INTEGER NOT NULL,
        at REAL NOT NULL
    );
    CREATE INDEX votes_by_ballot ON votes (ballot_id);
    CREATE TABLE passage_messages (
        message_id INTEGER PRIMARY KEY,
        passage_id INTEGER NOT NULL REFERENCES passages (id)
    );
    CREATE TABLE nudges (
        id INTEGER PRIMARY KEY,
        passage_id INTEGER NOT NULL REFERENCES passages (id),
        member_id INTEGER NOT NULL,
        emoji TEXT NOT NULL,
        added INTEGER NOT NULL,
        at REAL NOT NULL
    );
    CREATE INDEX nudges_by_passage ON nudges (passage_id);
    """,
    # 4: each passage's depth in its story (the opening is 0), and calls by story and time.
    4: """
    ALTER TABLE passages ADD COLUMN depth INTEGER NOT NULL DEFAULT 0;
    WITH RECURSIVE tree (id, depth) AS (
        SELECT id, 0 FROM passages WHERE parent_id IS NULL
        UNION ALL
        SELECT passages.id, tree.depth + 1 FROM passages JOIN tree ON passages.parent_id = tree.id
    )
    UPDATE passages SET depth = (SELECT depth FROM tree WHERE tree.id = passages.id);
    DROP INDEX model_calls_by_story;
    CREATE INDEX model_calls_by_story ON model_calls (story_id, created_at);
    """,
    # 5: the judge's faults that remain in each passage, comma-separated.
    5: """
    ALTER TABLE passages ADD COLUMN faults TEXT NOT NULL DEFAULT '';
    """,
    # 6: the one-writer-per-story lease and the /next cooldown, shared by every process.
    6: """
    CREATE TABLE leases (
        story_id INTEGER PRIMARY KEY,
        holder TEXT NOT NULL,
        expires REAL NOT NULL
    );
    CREATE TABLE cooldowns (
        guild_id INTEGER NOT NULL,
        member_id INTEGER NOT NULL,
        last REAL NOT NULL,
        PRIMARY KEY (guild_id, member_id)
    );
    """,
    # 7: the beat each passage was written toward, and the story's continuity ledger: its
    # named characters and places and the facts a reader holds it to, kept after each passage.
    7: """
    ALTER TABLE passages ADD COLUMN beat TEXT NOT NULL DEFAULT '';
    CREATE TABLE ledger (
        id INTEGER PRIMARY KEY,
        story_id INTEGER NOT NULL REFERENCES stories (id),
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        name TEXT NOT NULL,
        text TEXT NOT NULL,
        mentions INTEGER NOT NULL DEFAULT 1,
        passage_id INTEGER,
        removed INTEGER NOT NULL DEFAULT 0,
        UNIQUE (story_id, key)
    );
    """,
    # 8: a story's open threads (the questions it has raised), the thread a passage's beat
    # advanced or resolved, and the beat planned for the passage after each one.
    8: """
    CREATE TABLE threads (
        id INTEGER PRIMARY KEY,
        story_id INTEGER NOT NULL REFERENCES stories (id),
        text TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
        opened_by INTEGER,
        advanced INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        closed_at TEXT
    );
    CREATE INDEX threads_by_story ON threads (story_id, status);
    ALTER TABLE passages ADD COLUMN thread_id INTEGER;
    ALTER TABLE passages ADD COLUMN resolves INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE passages ADD COLUMN planned TEXT NOT NULL DEFAULT '';
    """,
}
assert max(MIGRATIONS) == SCHEMA_VERSION
