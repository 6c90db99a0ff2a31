-- Population baselines (ONS Census 2021 and others) per area: counts per characteristic and
-- category. Imports replace the characteristics they carry, so several tables combine.
CREATE TABLE baselines (
    area TEXT PRIMARY KEY NOT NULL REFERENCES areas (code),
    name TEXT NOT NULL,
    source TEXT NOT NULL,
    imported_at TEXT NOT NULL
);

CREATE TABLE baseline_counts (
    area TEXT NOT NULL REFERENCES baselines (area) ON DELETE CASCADE,
    characteristic TEXT NOT NULL,
    category TEXT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (area, characteristic, category)
);
