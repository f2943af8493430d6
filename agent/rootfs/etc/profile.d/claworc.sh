# Packages the agent installed into its home volume (npm -g and pip --user use ~/.local).
case ":$PATH:" in
  *":$HOME/.local/bin:"*) ;;
  *) PATH="$HOME/.local/bin:$PATH" ;;
esac
export PATH
