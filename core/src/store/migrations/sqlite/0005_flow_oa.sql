-- The outputs of a flow OA run (flows.md "OA run", steps 5–8), per date (YYYY-MM-DD); a run
-- replaces its date's rows. Times are Spot's text (YYYY-MM-DD HH:MM:SS), addresses canonical text.
CREATE TABLE IF NOT EXISTS flow_scores (
    date text NOT NULL,
    rank INTEGER NOT NULL,
    tstart text NOT NULL,
    srcip text NOT NULL,
    dstip text NOT NULL,
    sport INTEGER NOT NULL,
    dport INTEGER NOT NULL,
    proto text NOT NULL,
    ipkt INTEGER NOT NULL,
    ibyt INTEGER NOT NULL,
    opkt INTEGER NOT NULL,
    obyt INTEGER NOT NULL,
    score REAL NOT NULL,
    srcip_internal INTEGER NOT NULL,
    dstip_internal INTEGER NOT NULL,
    src_geoloc text NOT NULL,
    dst_geoloc text NOT NULL,
    src_domain text NOT NULL,
    dst_domain text NOT NULL,
    src_rep text NOT NULL,
    dst_rep text NOT NULL,
    PRIMARY KEY (date, rank)
);
CREATE TABLE IF NOT EXISTS flow_edges (
    date text NOT NULL,
    tstart text NOT NULL,
    srcip text NOT NULL,
    dstip text NOT NULL,
    sport INTEGER NOT NULL,
    dport INTEGER NOT NULL,
    proto text NOT NULL,
    flags text NOT NULL,
    tos INTEGER NOT NULL,
    ibyt INTEGER NOT NULL,
    ipkt INTEGER NOT NULL,
    input INTEGER NOT NULL,
    output INTEGER NOT NULL,
    rip text NOT NULL,
    obyt INTEGER NOT NULL,
    opkt INTEGER NOT NULL,
    hh INTEGER NOT NULL,
    mn INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS flow_edges_date ON flow_edges (date);
CREATE TABLE IF NOT EXISTS flow_chords (
    date text NOT NULL,
    ip_threat text NOT NULL,
    srcip text NOT NULL,
    dstip text NOT NULL,
    ibyt INTEGER NOT NULL,
    ipkt INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS flow_chords_date ON flow_chords (date);
CREATE TABLE IF NOT EXISTS flow_ingest_summary (
    date text NOT NULL,
    tdate text NOT NULL,
    total INTEGER NOT NULL,
    PRIMARY KEY (date, tdate)
);
-- Analyst scores of suspicious connections (Spot's flow_threat_investigation and ml_feedback):
-- sev 1 high, 2 medium, 3 low/benign; the date is the OA date they were given on.
CREATE TABLE IF NOT EXISTS flow_feedback (
    id INTEGER PRIMARY KEY,
    date text NOT NULL,
    sev INTEGER NOT NULL,
    tstart text NOT NULL,
    srcip text NOT NULL,
    dstip text NOT NULL,
    sport INTEGER NOT NULL,
    dport INTEGER NOT NULL,
    proto text NOT NULL,
    ipkt INTEGER NOT NULL,
    ibyt INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS flow_feedback_date ON flow_feedback (date);
-- An analyst's write-up of a threat address on a date (its title and free text, any characters).
CREATE TABLE IF NOT EXISTS flow_storyboards (
    date text NOT NULL,
    ip text NOT NULL,
    title text NOT NULL,
    body text NOT NULL,
    PRIMARY KEY (date, ip)
);
