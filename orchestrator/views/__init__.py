"""What people read: live progress of a run (`progress`), the tables of `plan`, `status` and
`log` as data first and tables second (`tables`), the task graph as Mermaid, DOT or SVG
(`graphs`), a task's commit (`commits`) and transcripts (`transcripts`), the HTML report
(`report`, `report_page`), the agents in use (`agents`), how a run ended and what to do
next (`outcome`), and what `sdd init` did (`setup`). Reads the records and git; writes nothing
but the report."""
