# Report stage: rules land with their issue.
