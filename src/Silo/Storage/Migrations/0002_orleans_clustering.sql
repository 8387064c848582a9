-- Microsoft.Orleans.Clustering.AdoNet: one version row per cluster (the table's ETag) and one row per
-- silo generation. A change to a silo row succeeds only together with a bump of the expected version.
CREATE TABLE orleans_membership_versions (
    deployment_id text        PRIMARY KEY,
    version       integer     NOT NULL DEFAULT 0,
    changed_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orleans_membership (
    deployment_id   text        NOT NULL REFERENCES orleans_membership_versions ON DELETE CASCADE,
    address         text        NOT NULL,
    port            integer     NOT NULL,
    generation      integer     NOT NULL,
    silo_name       text        NOT NULL,
    host_name       text        NOT NULL,
    status          integer     NOT NULL, -- Orleans.Runtime.SiloStatus: 3 active, 6 dead
    proxy_port      integer,
    suspect_times   text,                 -- "silo,time|silo,time": the death votes
    start_time      timestamptz NOT NULL,
    i_am_alive_time timestamptz NOT NULL,
    PRIMARY KEY (deployment_id, address, port, generation)
);

-- A silo row under the column names the provider reads.
CREATE VIEW orleans_membership_rows AS
SELECT deployment_id, address AS Address, port AS Port, generation AS Generation, silo_name AS SiloName,
       host_name AS HostName, status AS Status, proxy_port AS ProxyPort, suspect_times AS SuspectTimes,
       start_time AS StartTime, i_am_alive_time AS IAmAliveTime
FROM orleans_membership;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('InsertMembershipVersionKey', $sql$
    WITH inserted AS (
        INSERT INTO orleans_membership_versions (deployment_id) VALUES (@DeploymentId)
        ON CONFLICT (deployment_id) DO NOTHING
        RETURNING 1)
    SELECT count(*)::integer AS inserted FROM inserted
$sql$),

-- The version row is locked first, so a concurrent writer that bumped it makes this one insert nothing.
('InsertMembershipKey', $sql$
    WITH expected AS (
        SELECT deployment_id FROM orleans_membership_versions
        WHERE deployment_id = @DeploymentId AND version = @Version
        FOR UPDATE),
    inserted AS (
        INSERT INTO orleans_membership
            (deployment_id, address, port, generation, silo_name, host_name, status, proxy_port, start_time, i_am_alive_time)
        SELECT deployment_id, @Address, @Port, @Generation, @SiloName, @HostName, @Status, @ProxyPort, @StartTime, @IAmAliveTime
        FROM expected
        ON CONFLICT DO NOTHING
        RETURNING deployment_id),
    bumped AS (
        UPDATE orleans_membership_versions v SET version = v.version + 1, changed_at = now()
        FROM inserted WHERE v.deployment_id = inserted.deployment_id
        RETURNING 1)
    SELECT count(*)::integer AS changed FROM bumped
$sql$),

('UpdateMembershipKey', $sql$
    WITH expected AS (
        SELECT deployment_id FROM orleans_membership_versions
        WHERE deployment_id = @DeploymentId AND version = @Version
        FOR UPDATE),
    updated AS (
        UPDATE orleans_membership m
        SET status = @Status, suspect_times = @SuspectTimes, i_am_alive_time = @IAmAliveTime
        FROM expected
        WHERE m.deployment_id = expected.deployment_id
          AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
        RETURNING m.deployment_id),
    bumped AS (
        UPDATE orleans_membership_versions v SET version = v.version + 1, changed_at = now()
        FROM updated WHERE v.deployment_id = updated.deployment_id
        RETURNING 1)
    SELECT count(*)::integer AS changed FROM bumped
$sql$),

-- The heartbeat is diagnostic and does not take part in the version protocol.
('UpdateIAmAlivetimeKey', $sql$
    UPDATE orleans_membership SET i_am_alive_time = @IAmAliveTime
    WHERE deployment_id = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation
$sql$),

-- Both reads return the version row even when it has no silo row yet (the silo's columns are then null).
('MembershipReadRowKey', $sql$
    SELECT v.deployment_id AS DeploymentId, v.version AS Version, m.*
    FROM orleans_membership_versions v
    LEFT JOIN orleans_membership_rows m
        ON m.deployment_id = v.deployment_id AND m.Address = @Address AND m.Port = @Port AND m.Generation = @Generation
    WHERE v.deployment_id = @DeploymentId
$sql$),

('MembershipReadAllKey', $sql$
    SELECT v.deployment_id AS DeploymentId, v.version AS Version, m.*
    FROM orleans_membership_versions v
    LEFT JOIN orleans_membership_rows m ON m.deployment_id = v.deployment_id
    WHERE v.deployment_id = @DeploymentId
$sql$),

('DeleteMembershipTableEntriesKey', $sql$
    DELETE FROM orleans_membership_versions WHERE deployment_id = @DeploymentId
$sql$),

('GatewaysQueryKey', $sql$
    SELECT address AS Address, proxy_port AS ProxyPort, generation AS Generation
    FROM orleans_membership
    WHERE deployment_id = @DeploymentId AND status = @Status AND proxy_port > 0
$sql$),

('CleanupDefunctSiloEntriesKey', $sql$
    DELETE FROM orleans_membership
    WHERE deployment_id = @DeploymentId AND i_am_alive_time < @IAmAliveTime AND status <> 3
$sql$);
