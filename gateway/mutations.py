"""GraphQL mutations: commands sent to the services over RPC."""
Mutation = None
