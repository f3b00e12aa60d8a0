# Train stage: rules land with their issue.
