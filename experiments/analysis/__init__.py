"""Analysis of finished runs: the report and its figures, intervals, sensitivity (SALib), scenario discovery (PRIM), robust decisions and the EMA Workbench adapter."""
