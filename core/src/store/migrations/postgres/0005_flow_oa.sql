-- The outputs of a flow OA run (flows.md "OA run", steps 5–8), per date (YYYY-MM-DD); a run
-- replaces its date's rows. Times are Spot's text (YYYY-MM-DD HH:MM:SS), addresses canonical text.
CREATE TABLE IF NOT EXISTS flow_scores (
    date text NOT NULL,
    rank integer NOT NULL,
    tstart text NOT NULL,
    srcip text NOT NULL,
    dstip text NOT NULL,
    sport integer NOT NULL,
    dport integer NOT NULL,
    proto text NOT NULL,
    ipkt bigint NOT NULL,
    ibyt bigint NOT NULL,
    opkt bigint NOT NULL,
    obyt bigint NOT NULL,
    score double precision NOT NULL,
    srcip_internal integer NOT NULL,
    dstip_internal integer NOT NULL,
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
    sport integer NOT NULL,
    dport integer NOT NULL,
    proto text NOT NULL,
    flags text NOT NULL,
    tos integer NOT NULL,
    ibyt bigint NOT NULL,
    ipkt bigint NOT NULL,
    input integer NOT NULL,
    output integer NOT NULL,
    rip text NOT NULL,
    obyt bigint NOT NULL,
    opkt bigint NOT NULL,
    hh integer NOT NULL,
    mn integer NOT NULL
);
CREATE INDEX IF NOT EXISTS flow_edges_date ON flow_edges (date);
CREATE TABLE IF NOT EXISTS flow_chords (
    date text NOT NULL,
    ip_threat text NOT NULL,
    srcip text NOT NULL,
    dstip text NOT NULL,
    ibyt bigint NOT NULL,
    ipkt bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS flow_chords_date ON flow_chords (date);
CREATE TABLE IF NOT EXISTS flow_ingest_summary (
    date text NOT NULL,
    tdate text NOT NULL,
    total bigint NOT NULL,
    PRIMARY KEY (date, tdate)
);
-- Analyst scores of suspicious connections (Spot's flow_threat_investigation and ml_feedback):
-- sev 1 high, 2 medium, 3 low/benign; the date is the OA date they were given on.
CREATE TABLE IF NOT EXISTS flow_feedback (
    id bigserial PRIMARY KEY,
    date text NOT NULL,
    sev integer NOT NULL,
    tstart text NOT NULL,
    srcip text NOT NULL,
    dstip text NOT NULL,
    sport integer NOT NULL,
    dport integer NOT NULL,
    proto text NOT NULL,
    ipkt bigint NOT NULL,
    ibyt bigint NOT NULL
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
