-- Microsoft.Orleans.Persistence.AdoNet: one row per (service, state name, grain key). The provider passes
-- the state name as "GrainTypeString": rows are NOT told apart by grain class, so two classes that use
-- the same state name and key share a row (dotnet/orleans #8746) — give every grain class its own name.
-- A string key arrives whole in grain_id_extension (n0 = n1 = 0); a Guid or integer key in n0/n1, with
-- its key extension, if any, in grain_id_extension. grain_id_hash leads the key so lookups of string keys
-- stay index scans. version is the ETag: a write names the version it read and fails if it moved on.
CREATE TABLE orleans_grain_state (
    service_id         text        NOT NULL,
    state_name         text        NOT NULL,
    grain_id_hash      integer     NOT NULL,
    grain_id_n0        bigint      NOT NULL,
    grain_id_n1        bigint      NOT NULL,
    grain_id_extension text,
    payload            bytea,      -- null after ClearStateAsync
    version            integer     NOT NULL,
    modified_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT orleans_grain_state_key
        UNIQUE NULLS NOT DISTINCT (grain_id_hash, state_name, service_id, grain_id_n0, grain_id_n1, grain_id_extension)
);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('ReadFromStorageKey', $sql$
    SELECT payload AS PayloadBinary, version AS Version
    FROM orleans_grain_state
    WHERE grain_id_hash = @GrainIdHash AND state_name = @GrainTypeString AND service_id = @ServiceId
      AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
      AND grain_id_extension IS NOT DISTINCT FROM @GrainIdExtensionString
$sql$),

-- Updates the row at the version the grain read, or inserts the first one when it read none; no row
-- back (or the same version) is the provider's InconsistentStateException.
('WriteToStorageKey', $sql$
    WITH updated AS (
        UPDATE orleans_grain_state
        SET payload = @PayloadBinary, version = version + 1, modified_at = now()
        WHERE grain_id_hash = @GrainIdHash AND state_name = @GrainTypeString AND service_id = @ServiceId
          AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
          AND grain_id_extension IS NOT DISTINCT FROM @GrainIdExtensionString
          AND version = @GrainStateVersion
        RETURNING version),
    inserted AS (
        INSERT INTO orleans_grain_state
            (service_id, state_name, grain_id_hash, grain_id_n0, grain_id_n1, grain_id_extension, payload, version)
        SELECT @ServiceId, @GrainTypeString, @GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainIdExtensionString, @PayloadBinary, 1
        WHERE @GrainStateVersion IS NULL
        ON CONFLICT ON CONSTRAINT orleans_grain_state_key DO NOTHING
        RETURNING version)
    SELECT version AS NewGrainStateVersion FROM updated
    UNION ALL
    SELECT version FROM inserted
$sql$),

('ClearStorageKey', $sql$
    UPDATE orleans_grain_state
    SET payload = NULL, version = version + 1, modified_at = now()
    WHERE grain_id_hash = @GrainIdHash AND state_name = @GrainTypeString AND service_id = @ServiceId
      AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
      AND grain_id_extension IS NOT DISTINCT FROM @GrainIdExtensionString
      AND version = @GrainStateVersion
    RETURNING version AS NewGrainStateVersion
$sql$),

('DeleteStorageKey', $sql$
    DELETE FROM orleans_grain_state
    WHERE grain_id_hash = @GrainIdHash AND state_name = @GrainTypeString AND service_id = @ServiceId
      AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
      AND grain_id_extension IS NOT DISTINCT FROM @GrainIdExtensionString
      AND version = @GrainStateVersion
    RETURNING version + 1 AS NewGrainStateVersion
$sql$);
