"""The midwife's exports, written in a worker thread from a read-only SQLite connection.

- `exports.register`: the Puskesmas register, one XLSX in Bahasa Indonesia with names and
  local times (for the clinic itself);
- `exports.research`: the pseudonymous CSV files and XLSX for research;
- `exports.fhir`: a FHIR R4 Bundle of the milk reports of a time range (for SATUSEHAT).

The queries (her own clinic only) are in `db.queries.exports`; the chat side is `flows.exports`.
"""
