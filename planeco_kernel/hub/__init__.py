"""Many people at once: planeco behind JupyterHub, and the local knowledge base of ``make run``.

- :mod:`planeco_kernel.hub.config`: what ``jupyterhub_config.py`` (repository root) applies —
  local-process spawner, authenticator, proxy from ``.hub-node``, idle-server culler, the shared
  knowledge base;
- :mod:`planeco_kernel.hub.singleuser`: each signed-in person's server, the same Voilà gallery as
  ``planeco serve`` (same options, :func:`planeco_kernel.serve.voila_argv`) behind the hub's
  OAuth, identity = the hub user;
- :mod:`planeco_kernel.hub.kb_service`: the hub-managed service that performs every write of the
  shared knowledge base, as the hub user owning each request's API token;
- :mod:`planeco_kernel.hub.local_kb`: the knowledge base ``make run`` creates on first start.

JupyterHub is imported only inside these modules (the ``hub`` extra), never by the rest of planeco.
"""
