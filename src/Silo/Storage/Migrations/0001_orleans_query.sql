-- The Orleans ADO.NET providers read their SQL from this table at start-up
-- ("SELECT QueryKey, QueryText FROM OrleansQuery"): its name and columns are their contract.
-- Each later migration adds the rows of one provider, keyed by the provider's query key, whose text
-- binds the provider's parameters (@Name) and returns the columns it reads by name.
CREATE TABLE OrleansQuery (
    QueryKey  text PRIMARY KEY,
    QueryText text NOT NULL
);
