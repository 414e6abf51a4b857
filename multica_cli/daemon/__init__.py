"""The agent daemon (daemon contract §1, §3, §4, §6): registers this machine's agent CLIs as
runtimes, claims tasks, runs them and reports the results. Never imports Django."""
